{{ config(contract={'enforced': true}) }}

{%- set funnels = behavioral_analytics.funnel_definitions() -%}
{%- set max_steps = behavioral_analytics.funnel_max_steps() -%}

-- One row per funnel (behavior__funnels) x person who did its step 1 before
-- the as-of moment: the person's attempt that got furthest (the earliest
-- among equals), the time of each step reached, and whether its window
-- had closed by the as-of moment. Definitions: docs/definitions.md.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

current_as_of as (

    select as_of_dates.as_of_date
    from as_of_dates
    where as_of_dates.is_current

),

{% for funnel in funnels %}
{{ behavioral_analytics.funnel_attempt_ctes(funnel, loop.index, 'events') }},
{% endfor %}

best_attempts as (

    {% for funnel in funnels %}
    select * from funnel_{{ loop.index }}_best
    where attempt_rank = 1
    {% if not loop.last %}union all{% endif %}
    {% else %}
    -- no funnel configured: an empty table of the same shape
    select
        cast(null as {{ dbt.type_string() }}) as funnel_name,
        cast(null as {{ dbt.type_string() }}) as funnel_order,
        0 as window_hours,
        0 as step_count,
        cast(null as {{ dbt.type_string() }}) as person_id,
        cast(null as {{ dbt.type_string() }}) as entry_event_id,
        cast(null as {{ behavioral_analytics.type_timestamp_tz() }}) as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as entered_local_at,
        0 as entered_us,
        cast(null as {{ dbt.type_string() }}) as entry_platform,
        cast(null as date) as entry_week_start_date,
        0 as furthest_step,
        {%- for step_number in range(1, max_steps + 1) %}
        cast(null as {{ behavioral_analytics.type_timestamp_tz() }}) as step_{{ step_number }}_at,
        {%- endfor %}
        0 as seconds_to_convert,
        1 as attempt_rank
    where 1 = 0
    {% endfor %}

),

final as (

    select
        best_attempts.funnel_name,
        best_attempts.person_id,
        best_attempts.entry_event_id,
        best_attempts.entered_at,
        best_attempts.entry_platform,
        best_attempts.entry_week_start_date,
        best_attempts.funnel_order,
        cast(best_attempts.window_hours as {{ behavioral_analytics.type_double() }}) as window_hours,
        cast(best_attempts.step_count as {{ dbt.type_int() }}) as step_count,
        cast(best_attempts.furthest_step as {{ dbt.type_int() }}) as furthest_step,
        best_attempts.furthest_step = best_attempts.step_count as is_converted,
        {%- for step_number in range(1, max_steps + 1) %}
        best_attempts.step_{{ step_number }}_at,
        {%- endfor %}
        cast(best_attempts.seconds_to_convert as {{ behavioral_analytics.type_double() }}) as seconds_to_convert,
        {{ behavioral_analytics.epoch_microseconds('best_attempts.entered_local_at') }}
        + cast(best_attempts.window_hours * 3600000000.0 as {{ dbt.type_bigint() }})
        <= {{ behavioral_analytics.epoch_microseconds('cast(current_as_of.as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}
            as is_window_complete
    from best_attempts
    cross join current_as_of

)

select * from final
