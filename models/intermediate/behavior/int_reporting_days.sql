-- One row per local date from the first active date of anybody to the day
-- before the as-of date, with its week and month: the calendar spine that
-- keeps periods without activity in the marts (as zero rows).

with

person_days as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_person_days_aggregated') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

bounds as (

    select
        min(person_days.activity_date) as first_date,
        (
            select cast({{ dbt.dateadd('day', -1, 'max(as_of_dates.as_of_date)') }} as date)
            from as_of_dates
            where as_of_dates.is_current
        ) as last_date
    from person_days

),

days as (

    {{ behavioral_analytics.date_series(
        '(select bounds.first_date from bounds)',
        '(select bounds.last_date from bounds)'
    ) }}

),

calendar as (

    select
        days.date_day,
        {{ behavioral_analytics.period_start('week', 'days.date_day') }} as week_start_date,
        {{ behavioral_analytics.period_start('month', 'days.date_day') }} as month_start_date
    from days
    where days.date_day is not null

)

select * from calendar
