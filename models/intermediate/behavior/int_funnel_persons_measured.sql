-- incremental runs: the pre-hook deletes the rows of the persons
-- int_funnel_persons_touched lists (every row when it lists full_build), and
-- the model measures those persons again from all their events
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ behavioral_analytics.device_increment_prepare(ref('int_funnel_persons_touched'), 'person_id') }}",
) }}

{%- set funnels = behavioral_analytics.funnel_definitions() -%}
{%- set max_steps = behavioral_analytics.funnel_max_steps() -%}

-- One row per funnel (behavior__funnels) x person who did its step 1 before
-- the as-of moment: the person's attempt that got furthest (the earliest
-- among equals) and the time of each step reached. fct_funnel_persons adds
-- whether its window had closed by the as-of moment, which moves every day.
-- Definitions: docs/definitions.md.

with

localized_events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

funnel_persons_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_funnel_persons_touched') }}

),

-- incremental: only the persons whose events changed, all of their events
events as {{ behavioral_analytics.inlined_cte() }} (

    select * from localized_events
    where {{ behavioral_analytics.device_increment_filter('localized_events.person_id', 'funnel_persons_touched', 'person_id') }}

),

-- what the rows are measured from, kept on them for int_funnel_persons_touched
person_signatures as (

    {{ behavioral_analytics.funnel_person_signatures('events') }}

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
        cast(best_attempts.funnel_name as {{ dbt.type_string() }}) as funnel_name,
        best_attempts.person_id,
        best_attempts.entry_event_id,
        best_attempts.entered_at,
        best_attempts.entered_local_at,
        best_attempts.entry_platform,
        best_attempts.entry_week_start_date,
        cast(best_attempts.funnel_order as {{ dbt.type_string() }}) as funnel_order,
        cast(best_attempts.window_hours as {{ behavioral_analytics.type_double() }}) as window_hours,
        cast(best_attempts.step_count as {{ dbt.type_int() }}) as step_count,
        cast(best_attempts.furthest_step as {{ dbt.type_int() }}) as furthest_step,
        best_attempts.furthest_step = best_attempts.step_count as is_converted,
        {%- for step_number in range(1, max_steps + 1) %}
        best_attempts.step_{{ step_number }}_at,
        {%- endfor %}
        cast(best_attempts.seconds_to_convert as {{ behavioral_analytics.type_double() }}) as seconds_to_convert,
        person_signatures.person_event_count,
        person_signatures.person_events_signature,
        cast(
            {{ behavioral_analytics.settings_signature(behavioral_analytics.funnel_settings_vars()) }}
            as {{ dbt.type_string() }}
        ) as settings_signature
    from best_attempts
    inner join person_signatures
        on best_attempts.person_id = person_signatures.person_id

)

select * from final
