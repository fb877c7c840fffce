{{ config(contract={'enforced': true}) }}

{%- set max_steps = behavioral_analytics.funnel_max_steps() -%}

-- One row per funnel (behavior__funnels) x person who did its step 1 before
-- the as-of moment: the person's attempt that got furthest (the earliest
-- among equals, measured per person in int_funnel_persons_measured), the
-- time of each step reached, and whether its window had closed by the as-of
-- moment (computed here on every build: it moves with the as-of date).
-- Definitions: docs/definitions.md.

with

measured as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_funnel_persons_measured') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

current_as_of as (

    select
        {{ behavioral_analytics.epoch_microseconds(
            'cast(as_of_dates.as_of_date as ' ~ dbt.type_timestamp() ~ ')'
        ) }} as as_of_us
    from as_of_dates
    where as_of_dates.is_current

),

final as (

    select
        measured.funnel_name,
        measured.person_id,
        measured.entry_event_id,
        measured.entered_at,
        measured.entry_platform,
        measured.entry_week_start_date,
        measured.funnel_order,
        measured.window_hours,
        measured.step_count,
        measured.furthest_step,
        measured.is_converted,
        {% for step_number in range(1, max_steps + 1) -%}
            measured.step_{{ step_number }}_at,
        {% endfor -%}
        measured.seconds_to_convert,
        {{ behavioral_analytics.epoch_microseconds('measured.entered_local_at') }}
        + cast(measured.window_hours * 3600000000.0 as {{ dbt.type_bigint() }})
        <= current_as_of.as_of_us as is_window_complete
    from measured
    cross join current_as_of

)

select * from final
