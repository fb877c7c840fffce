-- A table, not a view: the touched devices, the sessions, the consent and
-- persons marts and this model's tests all read it whole, and a view computes
-- the identity and opt-out joins again for each of them.
{{ config(materialized='table') }}

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

-- the event's own user_id, else its device's person (the device itself
-- when nobody identified on it; nobody for a shared device's anonymous events).
-- Inlined: the opt-outs read three columns of the events without consent,
-- the final join every column of every event (materialized, DuckDB wrote
-- the whole wide table and read it back: 44 s of thread time at 10M events)
attributed as {{ behavioral_analytics.inlined_cte() }} (

    select
        stg_tracker__events.*,
        case
            when stg_tracker__events.user_id is not null
                then {{ behavioral_analytics.person_id_for_user('stg_tracker__events.user_id') }}
            when devices_stitched.device_id is null
                then {{ dbt.hash(dbt.concat(["'device|'", 'stg_tracker__events.device_id'])) }}
            else devices_stitched.person_id
        end as person_id,
        coalesce(stg_tracker__events.user_id, devices_stitched.stitched_user_id) as person_user_id
    from stg_tracker__events
    left join devices_stitched
        on stg_tracker__events.device_id = devices_stitched.device_id

),

opt_outs as (

    select
        attributed.person_id,
        min(attributed.event_at) as opted_out_at
    from attributed
    where attributed.person_id is not null and not attributed.has_analytics_consent
    group by 1

),

final as (

    select
        attributed.*,
        opt_outs.opted_out_at as person_opted_out_at,
        coalesce(attributed.event_at >= opt_outs.opted_out_at, false) as is_after_opt_out,
        case
            when not attributed.has_analytics_consent then 'no_consent'
            when attributed.event_at >= opt_outs.opted_out_at then 'after_opt_out'
        end as exclusion_reason,
        attributed.has_analytics_consent
        and not coalesce(attributed.event_at >= opt_outs.opted_out_at, false) as is_analysed
    from attributed
    left join opt_outs
        on attributed.person_id = opt_outs.person_id

)

-- every staged column passes through
select * from final  -- noqa: AM04
