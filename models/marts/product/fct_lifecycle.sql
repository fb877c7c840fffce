{{ config(contract={'enforced': true}) }}

{%- set units = ['week', 'month'] -%}
{%- set statuses = ['new', 'returning', 'resurrecting', 'dormant'] -%}

-- One row per period_unit (week, month) x period_start_date x status (new,
-- returning, resurrecting, dormant): how many persons, from the first period
-- with activity to the last period before the as-of date. `new` is the
-- period of a person's first active event (never a profile date, so a
-- backfill cannot move it).

with

person_days as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_person_days_aggregated') }}

),

calendar as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_reporting_days') }}

),

periods as (

    {% for unit in units %}
        select distinct
            '{{ unit }}' as period_unit,
            calendar.{{ unit }}_start_date as period_start_date,
            {{ behavioral_analytics.period_add(unit, 1, 'calendar.' ~ unit ~ '_start_date') }} as period_end_date,
            {{ behavioral_analytics.period_add(unit, -1, 'calendar.' ~ unit ~ '_start_date') }}
                as previous_period_start_date
        from calendar
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

person_periods as (

    {% for unit in units %}
        select distinct
            '{{ unit }}' as period_unit,
            person_days.person_id,
            person_days.{{ unit }}_start_date as period_start_date
        from person_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

first_periods as (

    select
        person_periods.period_unit,
        person_periods.person_id,
        min(person_periods.period_start_date) as first_period_start_date
    from person_periods
    group by person_periods.period_unit, person_periods.person_id

),

-- persons active in a period, with whether they were active the period before
active_statuses as (

    select
        periods.period_unit,
        periods.period_start_date,
        person_periods.person_id,
        case
            when person_periods.period_start_date = first_periods.first_period_start_date then 'new'
            when previous_periods.person_id is not null then 'returning'
            else 'resurrecting'
        end as status
    from periods
    inner join person_periods
        on periods.period_unit = person_periods.period_unit
            and periods.period_start_date = person_periods.period_start_date
    inner join first_periods
        on person_periods.period_unit = first_periods.period_unit
            and person_periods.person_id = first_periods.person_id
    left join person_periods as previous_periods
        on person_periods.period_unit = previous_periods.period_unit
            and person_periods.person_id = previous_periods.person_id
            and periods.previous_period_start_date = previous_periods.period_start_date

),

-- persons active the period before, not in this one
dormant_statuses as (

    select
        periods.period_unit,
        periods.period_start_date,
        previous_periods.person_id,
        'dormant' as status
    from periods
    inner join person_periods as previous_periods
        on periods.period_unit = previous_periods.period_unit
            and periods.previous_period_start_date = previous_periods.period_start_date
    left join person_periods as current_periods
        on previous_periods.period_unit = current_periods.period_unit
            and previous_periods.person_id = current_periods.person_id
            and periods.period_start_date = current_periods.period_start_date
    where current_periods.person_id is null

),

statuses as (

    select * from active_statuses
    union all
    select * from dormant_statuses

),

counted as (

    select
        statuses.period_unit,
        statuses.period_start_date,
        statuses.status,
        count(*) as persons
    from statuses
    group by statuses.period_unit, statuses.period_start_date, statuses.status

),

status_names as (

    {% for status in statuses -%}
        select
            '{{ status }}' as status,
            {{ loop.index }} as status_order
        {%- if not loop.last %} union all {% endif %}
    {% endfor %}

),

final as (

    select
        periods.period_unit,
        periods.period_start_date,
        status_names.status,
        cast(coalesce(counted.persons, 0) as {{ dbt.type_bigint() }}) as persons,
        cast(status_names.status_order as {{ dbt.type_int() }}) as status_order,
        periods.period_end_date <= (
            select cast({{ dbt.dateadd('day', 1, 'max(calendar.date_day)') }} as date) from calendar
        ) as is_period_complete
    from periods
    cross join status_names
    left join counted
        on periods.period_unit = counted.period_unit
            and periods.period_start_date = counted.period_start_date
            and status_names.status = counted.status

)

select * from final
