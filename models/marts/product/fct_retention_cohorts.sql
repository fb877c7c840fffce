{{ config(contract={'enforced': true}) }}

{%- set trigger_events = var('behavior__cohort_trigger_events') -%}
{%- set units = ['day', 'week', 'month'] -%}

-- One row per cohort_kind x period_unit x cohort_start_date x period_number:
-- of the persons whose cohort event (first active event, or first event of
-- a trigger name) falls in the cohort period, how many are active in the
-- period period_number units later, and in it or any later one.

with

events as (  -- noqa: ST03

    select * from {{ ref('int_events_localized') }}

),

person_days as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_person_days_aggregated') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

last_day as (

    select cast({{ dbt.dateadd('day', -1, 'as_of_dates.as_of_date') }} as date) as last_date
    from as_of_dates
    where as_of_dates.is_current

),

-- the day of each person's cohort event, per kind
cohort_events as (

    select
        'first_seen' as cohort_kind,
        person_days.person_id,
        min(person_days.activity_date) as cohort_event_date
    from person_days
    group by person_days.person_id

    {% for trigger_event in trigger_events %}
    union all

    select
        '{{ trigger_event }}' as cohort_kind,
        events.person_id,
        min(events.event_local_date) as cohort_event_date
    from events
    where events.event_name = '{{ trigger_event }}'
    group by events.person_id
    {% endfor %}

),

days as (

    {{ behavioral_analytics.date_series(
        '(select min(cohort_events.cohort_event_date) from cohort_events)',
        '(select last_day.last_date from last_day)'
    ) }}

),

-- every period of every unit from the first cohort event to the last day
periods as (

    {% for unit in units %}
        select distinct
            '{{ unit }}' as period_unit,
            {{ behavioral_analytics.period_start(unit, 'days.date_day') }} as period_start_date,
            {{ behavioral_analytics.period_add(unit, 1, behavioral_analytics.period_start(unit, 'days.date_day')) }}
                as period_end_date
        from days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

person_cohorts as (

    {% for unit in units %}
        select
            cohort_events.cohort_kind,
            '{{ unit }}' as period_unit,
            cohort_events.person_id,
            {{ behavioral_analytics.period_start(unit, 'cohort_events.cohort_event_date') }} as cohort_start_date
        from cohort_events
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

person_periods as (

    {% for unit in units %}
        select distinct
            '{{ unit }}' as period_unit,
            person_days.person_id,
            {{ behavioral_analytics.period_start(unit, 'person_days.activity_date') }} as period_start_date
        from person_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- each cohort person's active periods at or after its cohort period
cohort_activity as (

    {% for unit in units %}
        select
            person_cohorts.cohort_kind,
            person_cohorts.period_unit,
            person_cohorts.cohort_start_date,
            person_cohorts.person_id,
            {{ behavioral_analytics.periods_between(unit, 'person_cohorts.cohort_start_date', 'person_periods.period_start_date') }}  -- noqa: LT05
                as period_number
        from person_cohorts
        inner join person_periods
            on person_cohorts.person_id = person_periods.person_id
                and person_cohorts.period_unit = person_periods.period_unit
                and person_cohorts.cohort_start_date < person_periods.period_start_date
        where person_cohorts.period_unit = '{{ unit }}'
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cohort_sizes as (

    select
        person_cohorts.cohort_kind,
        person_cohorts.period_unit,
        person_cohorts.cohort_start_date,
        count(*) as cohort_persons
    from person_cohorts
    group by person_cohorts.cohort_kind, person_cohorts.period_unit, person_cohorts.cohort_start_date

),

active_counts as (

    select
        cohort_activity.cohort_kind,
        cohort_activity.period_unit,
        cohort_activity.cohort_start_date,
        cohort_activity.period_number,
        count(*) as active_persons
    from cohort_activity
    group by
        cohort_activity.cohort_kind,
        cohort_activity.period_unit,
        cohort_activity.cohort_start_date,
        cohort_activity.period_number

),

-- the last period each person was active in (0: only the cohort period)
last_active as (

    select
        person_cohorts.cohort_kind,
        person_cohorts.period_unit,
        person_cohorts.cohort_start_date,
        person_cohorts.person_id,
        coalesce(max(cohort_activity.period_number), 0) as last_period_number
    from person_cohorts
    left join cohort_activity
        on person_cohorts.cohort_kind = cohort_activity.cohort_kind
            and person_cohorts.period_unit = cohort_activity.period_unit
            and person_cohorts.person_id = cohort_activity.person_id
    group by
        person_cohorts.cohort_kind,
        person_cohorts.period_unit,
        person_cohorts.cohort_start_date,
        person_cohorts.person_id

),

grid as (

    {% for unit in units %}
        select
            cohort_sizes.cohort_kind,
            cohort_sizes.period_unit,
            cohort_sizes.cohort_start_date,
            cohort_sizes.cohort_persons,
            periods.period_start_date,
            periods.period_end_date,
            {{ behavioral_analytics.periods_between(unit, 'cohort_sizes.cohort_start_date', 'periods.period_start_date') }}  -- noqa: LT05
                as period_number
        from cohort_sizes
        inner join periods
            on cohort_sizes.period_unit = periods.period_unit
                and cohort_sizes.cohort_start_date <= periods.period_start_date
        where cohort_sizes.period_unit = '{{ unit }}'
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

last_active_counts as (

    select
        last_active.cohort_kind,
        last_active.period_unit,
        last_active.cohort_start_date,
        last_active.last_period_number,
        count(*) as persons
    from last_active
    group by
        last_active.cohort_kind,
        last_active.period_unit,
        last_active.cohort_start_date,
        last_active.last_period_number

),

-- active in period p or later = last active period >= p: a running sum from the last period down
retained as (

    select
        grid.cohort_kind,
        grid.period_unit,
        grid.cohort_start_date,
        grid.period_number,
        sum(coalesce(last_active_counts.persons, 0)) over (
            partition by grid.cohort_kind, grid.period_unit, grid.cohort_start_date
            order by grid.period_number desc
            rows between unbounded preceding and current row
        ) as retained_on_or_after_persons
    from grid
    left join last_active_counts
        on grid.cohort_kind = last_active_counts.cohort_kind
            and grid.period_unit = last_active_counts.period_unit
            and grid.cohort_start_date = last_active_counts.cohort_start_date
            and grid.period_number = last_active_counts.last_period_number

),

final as (

    select
        grid.cohort_kind,
        grid.period_unit,
        grid.cohort_start_date,
        cast(grid.period_number as {{ dbt.type_int() }}) as period_number,
        grid.period_start_date,
        cast(grid.cohort_persons as {{ dbt.type_bigint() }}) as cohort_persons,
        cast(
            case when grid.period_number = 0 then grid.cohort_persons else coalesce(active_counts.active_persons, 0) end
            as {{ dbt.type_bigint() }}
        ) as active_persons,
        cast(retained.retained_on_or_after_persons as {{ dbt.type_bigint() }}) as retained_on_or_after_persons,
        cast(
            case when grid.period_number = 0 then grid.cohort_persons else coalesce(active_counts.active_persons, 0) end
            * 1.0 / grid.cohort_persons
            as {{ behavioral_analytics.type_double() }}
        ) as retention_rate,
        cast(
            retained.retained_on_or_after_persons * 1.0 / grid.cohort_persons
            as {{ behavioral_analytics.type_double() }}
        ) as retained_on_or_after_rate,
        grid.period_end_date <= (
            select cast({{ dbt.dateadd('day', 1, 'last_day.last_date') }} as date) from last_day
        ) as is_period_complete
    from grid
    inner join retained
        on grid.cohort_kind = retained.cohort_kind
            and grid.period_unit = retained.period_unit
            and grid.cohort_start_date = retained.cohort_start_date
            and grid.period_number = retained.period_number
    left join active_counts
        on grid.cohort_kind = active_counts.cohort_kind
            and grid.period_unit = active_counts.period_unit
            and grid.cohort_start_date = active_counts.cohort_start_date
            and grid.period_number = active_counts.period_number

)

select * from final
