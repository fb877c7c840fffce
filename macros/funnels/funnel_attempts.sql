{% macro funnel_attempt_ctes(funnel, index, events_cte) %}
    {#- CTEs that find, for one funnel, every attempt (one per step-1 event)
        and how far it got, ending in `funnel_<index>_best`: per person the
        attempt with the furthest step, earliest entry among equals.
        Linear in events: each step is one sort of the live attempts with
        the events of that step's name (a running minimum finds the next
        event of the name at or after a time), never a join of every step
        pair. Definitions: docs/definitions.md, "Funnels". -#}
    {%- set prefix = 'funnel_' ~ index -%}
    {%- set steps = funnel['steps'] -%}
    {%- set order = funnel['order'] -%}
    {%- set window_us = (funnel['window_hours'] * 3600 * 1000000) | int -%}

{{ prefix }}_events as (

    select
        {{ events_cte }}.person_id,
        {{ events_cte }}.event_id,
        {{ events_cte }}.event_name,
        {{ events_cte }}.event_at,
        {{ events_cte }}.event_local_at,
        {{ events_cte }}.platform,
        {{ events_cte }}.week_start_date,
        {{ behavioral_analytics.epoch_microseconds(events_cte ~ '.event_at') }} as event_us,
        {%- if order == 'strict' %}
        -- strict only: the position among all the person's events (a sort of
        -- every event, 2.4 of the 9.8 s at 10M events when it was always taken)
        row_number() over (
            partition by {{ events_cte }}.person_id
            order by {{ events_cte }}.event_at, {{ events_cte }}.event_id
        ) as person_position,
        {%- endif %}
        row_number() over (
            partition by {{ events_cte }}.person_id, {{ events_cte }}.event_name
            order by {{ events_cte }}.event_at, {{ events_cte }}.event_id
        ) as name_rank
    from {{ events_cte }}
    {%- if order != 'strict' %}
    where {{ behavioral_analytics.in_list(events_cte ~ '.event_name', steps | unique | list) }}
    {%- endif %}

),

{{ prefix }}_attempts_1 as (

    select
        {{ prefix }}_events.person_id,
        {{ prefix }}_events.event_id as entry_event_id,
        {{ prefix }}_events.event_at as entered_at,
        {{ prefix }}_events.event_local_at as entered_local_at,
        {{ prefix }}_events.event_us as entered_us,
        {{ prefix }}_events.platform as entry_platform,
        {{ prefix }}_events.week_start_date as entry_week_start_date,
        {{ prefix }}_events.event_at as step_1_at,
        {{ prefix }}_events.event_us as step_1_us,
        {{ prefix }}_events.name_rank as step_1_rank
        {%- if order == 'strict' %},
        {{ prefix }}_events.person_position as step_1_position
        {%- endif %}
    from {{ prefix }}_events
    where {{ prefix }}_events.event_name = '{{ steps[0] }}'

),

{%- for step in steps[1:] %}
{%- set step_number = loop.index + 1 -%}
{%- set previous = prefix ~ '_attempts_' ~ (step_number - 1) -%}
{#- the latest earlier step of the same name: its event cannot be used again -#}
{%- set same_name = [] -%}
{%- for earlier in steps[:step_number - 1] -%}
    {%- if earlier == step -%}{%- do same_name.append(loop.index) -%}{%- endif -%}
{%- endfor %}

{% if order == 'strict' %}
{{ prefix }}_found_{{ step_number }} as (

    -- strict: the person's very next event, when it is this step
    select
        {{ previous }}.entry_event_id,
        next_events.event_at,
        next_events.event_us,
        next_events.name_rank,
        next_events.person_position
    from {{ previous }}
    inner join {{ prefix }}_events as next_events
        on {{ previous }}.person_id = next_events.person_id
            and next_events.person_position = {{ previous }}.step_{{ step_number - 1 }}_position + 1
    where {{ previous }}.step_{{ step_number - 1 }}_at is not null
        and next_events.event_name = '{{ step }}'
        and next_events.event_us - {{ previous }}.entered_us <= {{ window_us }}

),
{% else %}
{{ prefix }}_probes_{{ step_number }} as (

    {% if order == 'ordered' -%}
    -- ordered: probe at the previous step's time (the same instant counts)
    select
        {{ previous }}.person_id,
        {{ previous }}.entry_event_id,
        {{ previous }}.step_{{ step_number - 1 }}_us as probe_us,
        0 as probe_kind,
        {% if same_name %}{{ previous }}.step_{{ same_name[-1] }}_rank + 1{% else %}1{% endif %} as minimum_rank,
        cast(null as {{ dbt.type_bigint() }}) as name_rank
    from {{ previous }}
    where {{ previous }}.step_{{ step_number - 1 }}_at is not null
    {%- else -%}
    -- any: probe at the start of the window around the entry
    select
        {{ previous }}.person_id,
        {{ previous }}.entry_event_id,
        {{ previous }}.entered_us - {{ window_us }} as probe_us,
        0 as probe_kind,
        1 as minimum_rank,
        cast(null as {{ dbt.type_bigint() }}) as name_rank
    from {{ previous }}
    {%- endif %}

    union all

    select
        {{ prefix }}_events.person_id,
        null as entry_event_id,
        {{ prefix }}_events.event_us as probe_us,
        1 as probe_kind,
        null as minimum_rank,
        {{ prefix }}_events.name_rank
    from {{ prefix }}_events
    where {{ prefix }}_events.event_name = '{{ step }}'

),

-- the first event of the name at or after the probe: a running minimum of
-- rank, latest first, events before probes at the same instant
{{ prefix }}_next_{{ step_number }} as (

    select
        {{ prefix }}_probes_{{ step_number }}.*,
        min({{ prefix }}_probes_{{ step_number }}.name_rank) over (
            partition by {{ prefix }}_probes_{{ step_number }}.person_id
            order by {{ prefix }}_probes_{{ step_number }}.probe_us desc, {{ prefix }}_probes_{{ step_number }}.probe_kind desc
            rows between unbounded preceding and current row
        ) as next_rank
    from {{ prefix }}_probes_{{ step_number }}

),

{{ prefix }}_found_{{ step_number }} as (

    select
        {{ prefix }}_next_{{ step_number }}.entry_event_id,
        step_events.event_at,
        step_events.event_us,
        step_events.name_rank
    from {{ prefix }}_next_{{ step_number }}
    inner join {{ previous }}
        on {{ prefix }}_next_{{ step_number }}.entry_event_id = {{ previous }}.entry_event_id
    inner join {{ prefix }}_events as step_events
        on {{ prefix }}_next_{{ step_number }}.person_id = step_events.person_id
            and step_events.event_name = '{{ step }}'
            -- greatest() skips nulls on most engines: no next event is no match
            and {{ prefix }}_next_{{ step_number }}.next_rank is not null
            and step_events.name_rank = greatest(
                {{ prefix }}_next_{{ step_number }}.next_rank, {{ prefix }}_next_{{ step_number }}.minimum_rank
            )
    where {{ prefix }}_next_{{ step_number }}.probe_kind = 0
        and step_events.event_us - {{ previous }}.entered_us <= {{ window_us }}

),
{% endif %}

{{ prefix }}_attempts_{{ step_number }} as (

    select
        {{ previous }}.*,
        {{ prefix }}_found_{{ step_number }}.event_at as step_{{ step_number }}_at,
        {{ prefix }}_found_{{ step_number }}.event_us as step_{{ step_number }}_us,
        {{ prefix }}_found_{{ step_number }}.name_rank as step_{{ step_number }}_rank
        {%- if order == 'strict' %},
        {{ prefix }}_found_{{ step_number }}.person_position as step_{{ step_number }}_position
        {%- endif %}
    from {{ previous }}
    left join {{ prefix }}_found_{{ step_number }}
        on {{ previous }}.entry_event_id = {{ prefix }}_found_{{ step_number }}.entry_event_id

),
{%- endfor %}

{{ prefix }}_measured as (

    select
        {{ prefix }}_attempts_{{ steps | length }}.*,
        case
            {%- for step in steps[1:] %}
            when {{ prefix }}_attempts_{{ steps | length }}.step_{{ loop.index + 1 }}_at is null then {{ loop.index }}
            {%- endfor %}
            else {{ steps | length }}
        end as furthest_step
    from {{ prefix }}_attempts_{{ steps | length }}

),

{{ prefix }}_best as (

    select
        '{{ funnel["name"] }}' as funnel_name,
        '{{ order }}' as funnel_order,
        {{ funnel['window_hours'] }} as window_hours,
        {{ steps | length }} as step_count,
        {{ prefix }}_measured.person_id,
        {{ prefix }}_measured.entry_event_id,
        {{ prefix }}_measured.entered_at,
        {{ prefix }}_measured.entered_local_at,
        {{ prefix }}_measured.entered_us,
        {{ prefix }}_measured.entry_platform,
        {{ prefix }}_measured.entry_week_start_date,
        {{ prefix }}_measured.furthest_step,
        {%- for step_number in range(1, behavioral_analytics.funnel_max_steps() + 1) %}
        {%- if step_number <= steps | length %}
        case when {{ prefix }}_measured.furthest_step >= {{ step_number }}
            then {{ prefix }}_measured.step_{{ step_number }}_at end as step_{{ step_number }}_at,
        {%- else %}
        cast(null as {{ behavioral_analytics.type_timestamp_tz() }}) as step_{{ step_number }}_at,
        {%- endif %}
        {%- endfor %}
        case when {{ prefix }}_measured.furthest_step = {{ steps | length }}
            then ({{ prefix }}_measured.step_{{ steps | length }}_us - {{ prefix }}_measured.entered_us) / 1000000.0
        end as seconds_to_convert,
        row_number() over (
            partition by {{ prefix }}_measured.person_id
            order by
                {{ prefix }}_measured.furthest_step desc,
                {{ prefix }}_measured.entered_us,
                {{ prefix }}_measured.entry_event_id
        ) as attempt_rank
    from {{ prefix }}_measured

)
{%- endmacro %}
