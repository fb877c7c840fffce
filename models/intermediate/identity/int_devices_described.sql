{{ config(materialized='view') }}

-- dim_devices without the device's latest user agent: what is known of each
-- device from the device-grain models (identity, link, bot flag, activity),
-- typed as dim_devices. A view, so int_mart_devices_touched compares it with
-- dim_devices as built and dim_devices reads it for the devices it recomputes.

with

devices_stitched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_stitched') }}

),

devices_profiled as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_profiled') }}

),

devices_linked as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_linked') }}

),

described as (

    select
        -- ids
        devices_stitched.device_id,
        case when not devices_stitched.is_user_id_device then devices_stitched.device_id end as anonymous_id,
        devices_stitched.person_id,
        devices_stitched.stitched_user_id,

        -- identity
        devices_stitched.is_shared,
        cast(devices_stitched.user_id_count as {{ dbt.type_int() }}) as user_id_count,

        -- probabilistic link to a known person (own columns, never in person_id):
        -- the best candidate's score and evidence; linked_person_id only when
        -- the score reaches behavior__link_min_score
        case when devices_linked.is_linked then devices_linked.linked_person_id end as linked_person_id,
        cast(devices_linked.link_score as {{ behavioral_analytics.type_double() }}) as link_score,
        coalesce(devices_linked.is_linked, false) as is_linked,
        devices_linked.link_candidate_count,
        devices_linked.link_shares_exact_ip,
        devices_linked.link_shared_ip_count,
        devices_linked.link_shares_ip_network,
        devices_linked.link_shares_locale,
        devices_linked.link_shares_user_agent_family,
        devices_linked.link_concurrent_sessions,

        -- non-human traffic
        devices_profiled.is_bot,
        devices_profiled.bot_reason,

        -- activity (analysed events: consented, before any opt-out)
        cast(devices_profiled.event_count as {{ dbt.type_bigint() }}) as event_count,
        cast(devices_profiled.session_count as {{ dbt.type_bigint() }}) as session_count,
        devices_profiled.first_seen_at,
        devices_profiled.last_seen_at

    from devices_stitched
    inner join devices_profiled
        on devices_stitched.device_id = devices_profiled.device_id
    left join devices_linked
        on devices_stitched.device_id = devices_linked.device_id

)

select * from described
