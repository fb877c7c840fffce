{{ config(contract={'enforced': true}) }}

{%- set funnels = behavioral_analytics.funnel_definitions() -%}

-- One row per funnel_name x breakdown ('all', 'platform' of step 1,
-- 'entry_week') x breakdown_value x step_number: persons who reached the
-- step (their best attempt, fct_funnel_persons), conversion from the first
-- and the previous step, and the median time from the previous step.

with

funnel_persons as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('fct_funnel_persons') }}

),

broken_down as (

    select
        funnel_persons.*,
        'all' as breakdown,
        'all' as breakdown_value
    from funnel_persons

    union all

    select
        funnel_persons.*,
        'platform' as breakdown,
        funnel_persons.entry_platform as breakdown_value
    from funnel_persons

    union all

    select
        funnel_persons.*,
        'entry_week' as breakdown,
        cast(funnel_persons.entry_week_start_date as {{ dbt.type_string() }}) as breakdown_value
    from funnel_persons

),

-- one row per person and step of its funnel: reached or not
person_steps as (

    {% for funnel in funnels %}
    {%- set funnel_loop = loop %}
    {%- for step in funnel['steps'] %}
    select
        broken_down.funnel_name,
        broken_down.breakdown,
        broken_down.breakdown_value,
        {{ loop.index }} as step_number,
        '{{ step }}' as step_name,
        broken_down.furthest_step >= {{ loop.index }} as is_reached,
        {% if loop.index > 1 -%}
        (
            {{ behavioral_analytics.epoch_microseconds('broken_down.step_' ~ loop.index ~ '_at') }}
            - {{ behavioral_analytics.epoch_microseconds('broken_down.step_' ~ (loop.index - 1) ~ '_at') }}
        ) / 1000000.0
        {%- else -%}
        cast(null as {{ behavioral_analytics.type_double() }})
        {%- endif %} as seconds_from_previous
    from broken_down
    where broken_down.funnel_name = '{{ funnel["name"] }}'
    {% if not (funnel_loop.last and loop.last) %}union all{% endif %}
    {%- endfor %}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as funnel_name,
        cast(null as {{ dbt.type_string() }}) as breakdown,
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        0 as step_number,
        cast(null as {{ dbt.type_string() }}) as step_name,
        false as is_reached,
        cast(null as {{ behavioral_analytics.type_double() }}) as seconds_from_previous
    where 1 = 0
    {% endfor %}

),

counted as (

    select
        person_steps.funnel_name,
        person_steps.breakdown,
        person_steps.breakdown_value,
        person_steps.step_number,
        person_steps.step_name,
        sum(case when person_steps.is_reached then 1 else 0 end) as persons,
        {{ behavioral_analytics.median('case when person_steps.is_reached then person_steps.seconds_from_previous end') }}
            as median_seconds_from_previous
    from person_steps
    group by
        person_steps.funnel_name,
        person_steps.breakdown,
        person_steps.breakdown_value,
        person_steps.step_number,
        person_steps.step_name

),

compared as (

    select
        counted.*,
        max(case when counted.step_number = 1 then counted.persons end) over (
            partition by counted.funnel_name, counted.breakdown, counted.breakdown_value
        ) as first_step_persons,
        lag(counted.persons) over (
            partition by counted.funnel_name, counted.breakdown, counted.breakdown_value
            order by counted.step_number
        ) as previous_step_persons
    from counted

),

final as (

    select
        compared.funnel_name,
        compared.breakdown,
        compared.breakdown_value,
        cast(compared.step_number as {{ dbt.type_int() }}) as step_number,
        compared.step_name,
        cast(compared.persons as {{ dbt.type_bigint() }}) as persons,
        cast(
            case when compared.first_step_persons > 0 then compared.persons * 1.0 / compared.first_step_persons end
            as {{ behavioral_analytics.type_double() }}
        ) as conversion_from_first,
        cast(
            case
                when compared.step_number = 1 then 1.0
                when compared.previous_step_persons > 0 then compared.persons * 1.0 / compared.previous_step_persons
            end
            as {{ behavioral_analytics.type_double() }}
        ) as conversion_from_previous,
        cast(compared.median_seconds_from_previous as {{ behavioral_analytics.type_double() }})
            as median_seconds_from_previous
    from compared

)

select * from final
