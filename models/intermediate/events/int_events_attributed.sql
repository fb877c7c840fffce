-- incremental runs: the pre-hook deletes the rows of the devices
-- int_attributed_devices_touched lists, from the first day each changed on
-- (recompute_from_at), and the model computes those rows again. A table, not
-- a view: the touched devices, the sessions, the consent and persons marts
-- and this model's tests all read it, and a view computes the identity and
-- opt-out joins again for each of them (tried at 10M: an incremental day of
-- 243 s against 237 s as a table, every reader slower).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ behavioral_analytics.device_lookback_prepare(ref('int_attributed_devices_touched'), by='day') }}",
) }}

-- Every valid, first-received event with its person and whether it may be
-- analysed: the contract excludes an event without analytics consent, and an
-- opt-out propagates (from a person's first event without consent on,
-- nothing of that person is analysed, on any device).

with

stg_tracker__events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

devices_stitched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_stitched') }}

),

devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_attributed_devices_touched') }}

),

-- the event's person (macros/identity/attribution.sql). Inlined: the
-- opt-outs read three columns of the events without consent, the final join
-- every column of every event (materialized, DuckDB wrote the whole wide
-- table and read it back: 44 s of thread time at 10M events)
attributed as {{ behavioral_analytics.inlined_cte() }} (

    {{ behavioral_analytics.attributed_events('stg_tracker__events', 'devices_stitched') }}

),

-- of every event (an opt-out reaches the person's other devices)
opt_outs as (

    {{ behavioral_analytics.person_opt_outs('attributed') }}

),

-- incremental: only the touched devices' events, from the first day each
-- changed on
recomputed as (

    select attributed.*
    from attributed
    {{ behavioral_analytics.device_lookback_join('attributed', 'devices_touched', by='day') }}

),

final as (

    select
        recomputed.*,
        opt_outs.opted_out_at as person_opted_out_at,
        coalesce(recomputed.event_at >= opt_outs.opted_out_at, false) as is_after_opt_out,
        case
            when not recomputed.has_analytics_consent then 'no_consent'
            when recomputed.event_at >= opt_outs.opted_out_at then 'after_opt_out'
        end as exclusion_reason,
        recomputed.has_analytics_consent
        and not coalesce(recomputed.event_at >= opt_outs.opted_out_at, false) as is_analysed
    from recomputed
    left join opt_outs
        on recomputed.person_id = opt_outs.person_id

)

-- every staged column passes through
select * from final  -- noqa: AM04
