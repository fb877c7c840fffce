{{ config(contract={'enforced': true}) }}

-- One row per activity_date (reporting time zone), from the first active
-- date to the day before the as-of date: daily, weekly and monthly active
-- persons on trailing windows ending that day.

with

person_days as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_person_days_aggregated') }}

),

calendar as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_reporting_days') }}

),

first_days as (

    select
        person_days.person_id,
        min(person_days.activity_date) as first_activity_date
    from person_days
    group by person_days.person_id

),

-- each active day counts for the 30 days it is in a trailing month of
covered as (

    select
        calendar.date_day,
        person_days.person_id,
        {{ dbt.datediff('person_days.activity_date', 'calendar.date_day', 'day') }} as days_ago  -- noqa: LT05
    from calendar
    inner join person_days
        on calendar.date_day >= person_days.activity_date
            and calendar.date_day < cast({{ dbt.dateadd('day', 30, 'person_days.activity_date') }} as date)

),

windows as (

    select
        covered.date_day,
        count(distinct case when covered.days_ago = 0 then covered.person_id end) as dau,
        count(distinct case when covered.days_ago <= 6 then covered.person_id end) as wau,
        count(distinct covered.person_id) as mau
    from covered
    group by covered.date_day

),

new_persons as (

    select
        first_days.first_activity_date,
        count(*) as new_persons
    from first_days
    group by first_days.first_activity_date

),

final as (

    select
        calendar.date_day as activity_date,
        cast(coalesce(windows.dau, 0) as {{ dbt.type_bigint() }}) as dau,
        cast(coalesce(windows.wau, 0) as {{ dbt.type_bigint() }}) as wau,
        cast(coalesce(windows.mau, 0) as {{ dbt.type_bigint() }}) as mau,
        cast(
            case when windows.mau > 0 then windows.dau * 1.0 / windows.mau end
            as {{ behavioral_analytics.type_double() }}
        ) as dau_over_mau,
        cast(
            case when windows.mau > 0 then windows.wau * 1.0 / windows.mau end
            as {{ behavioral_analytics.type_double() }}
        ) as wau_over_mau,
        cast(coalesce(new_persons.new_persons, 0) as {{ dbt.type_bigint() }}) as new_persons
    from calendar
    left join windows
        on calendar.date_day = windows.date_day
    left join new_persons
        on calendar.date_day = new_persons.first_activity_date

)

select * from final
