{{ config(contract={'enforced': true}) }}

{%- set units = ['week', 'month'] -%}

-- One row per period_unit (week, month) x period_start_date x active_days
-- (1 to the days in the period): persons active on exactly that many days
-- of the period, and on at least that many.

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
            {{ behavioral_analytics.period_add(unit, 1, 'calendar.' ~ unit ~ '_start_date') }} as period_end_date
        from calendar
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

day_numbers as (

    {% for day_number in range(1, 32) -%}
        select {{ day_number }} as active_days
        {%- if not loop.last %} union all {% endif %}
    {% endfor %}

),

person_periods as (

    {% for unit in units %}
        select
            '{{ unit }}' as period_unit,
            person_days.{{ unit }}_start_date as period_start_date,
            person_days.person_id,
            count(*) as active_day_count
        from person_days
        group by person_days.{{ unit }}_start_date, person_days.person_id
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

exact_counts as (

    select
        person_periods.period_unit,
        person_periods.period_start_date,
        person_periods.active_day_count,
        count(*) as persons
    from person_periods
    group by person_periods.period_unit, person_periods.period_start_date, person_periods.active_day_count

),

grid as (

    select
        periods.period_unit,
        periods.period_start_date,
        periods.period_end_date,
        day_numbers.active_days
    from periods
    inner join day_numbers
        on day_numbers.active_days <= {{ dbt.datediff('periods.period_start_date', 'periods.period_end_date', 'day') }}

),

counted as (

    select
        grid.period_unit,
        grid.period_start_date,
        grid.period_end_date,
        grid.active_days,
        coalesce(exact_counts.persons, 0) as persons,
        sum(coalesce(exact_counts.persons, 0)) over (
            partition by grid.period_unit, grid.period_start_date
            order by grid.active_days desc
            rows between unbounded preceding and current row
        ) as persons_at_least,
        sum(coalesce(exact_counts.persons, 0)) over (
            partition by grid.period_unit, grid.period_start_date
        ) as active_persons
    from grid
    left join exact_counts
        on grid.period_unit = exact_counts.period_unit
            and grid.period_start_date = exact_counts.period_start_date
            and grid.active_days = exact_counts.active_day_count

),

final as (

    select
        counted.period_unit,
        counted.period_start_date,
        cast(counted.active_days as {{ dbt.type_int() }}) as active_days,
        cast(counted.persons as {{ dbt.type_bigint() }}) as persons,
        cast(counted.persons_at_least as {{ dbt.type_bigint() }}) as persons_at_least,
        cast(counted.active_persons as {{ dbt.type_bigint() }}) as active_persons,
        counted.period_end_date <= (
            select cast({{ dbt.dateadd('day', 1, 'max(calendar.date_day)') }} as date) from calendar
        ) as is_period_complete
    from counted

)

select * from final
