{{ config(contract={'enforced': true}) }}

{%- set max_steps = behavioral_analytics.funnel_max_steps() -%}

-- One row per funnel (behavior__funnels) x person who did its step 1 before
-- the as-of moment: the person's attempt that got furthest (the earliest
-- among equals, measured per person in int_funnel_persons_measured), the
-- time of each step reached, and whether its window had closed by the as-of
-- moment (computed here on every build: it moves with the as-of date).
-- Definitions: docs/definitions.md.

with

funnel_persons_measured as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_funnel_persons_measured') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

current_as_of as (

    select as_of_dates.as_of_date
    from as_of_dates
    where as_of_dates.is_current

),

final as (

    select
        funnel_persons_measured.funnel_name,
        funnel_persons_measured.person_id,
        funnel_persons_measured.entry_event_id,
        funnel_persons_measured.entered_at,
        funnel_persons_measured.entry_platform,
        funnel_persons_measured.entry_week_start_date,
        funnel_persons_measured.funnel_order,
        funnel_persons_measured.window_hours,
        funnel_persons_measured.step_count,
        funnel_persons_measured.furthest_step,
        funnel_persons_measured.is_converted,
        {%- for step_number in range(1, max_steps + 1) %}
        funnel_persons_measured.step_{{ step_number }}_at,
        {%- endfor %}
        funnel_persons_measured.seconds_to_convert,
        {{ behavioral_analytics.epoch_microseconds('funnel_persons_measured.entered_local_at') }}
        + cast(funnel_persons_measured.window_hours * 3600000000.0 as {{ dbt.type_bigint() }})
        <= {{ behavioral_analytics.epoch_microseconds('cast(current_as_of.as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}
            as is_window_complete
    from funnel_persons_measured
    cross join current_as_of

)

select * from final
