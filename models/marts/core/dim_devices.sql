-- incremental runs: the pre-hook deletes the rows of the devices
-- int_mart_devices_touched lists, and the model computes those devices again
-- (the enforced contract checks the columns; on_schema_change='fail' would
-- also compare types, and PostgreSQL reads the contract's varchar as text)
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
    pre_hook="{{ behavioral_analytics.device_increment_prepare(ref('int_mart_devices_touched')) }}",
) }}

with

devices_described as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_described') }}

),

events_enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_enriched') }}

),

mart_devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_mart_devices_touched') }}

),

-- incremental: only the devices whose row changed
devices as (

    select * from devices_described
    where {{ behavioral_analytics.device_increment_filter('device_id', 'mart_devices_touched') }}

),

-- the user agent only as family, version and class: the device's latest
latest_user_agents as (

    select
        events_enriched.device_id,
        events_enriched.user_agent_family,
        events_enriched.user_agent_version,
        events_enriched.device_class,
        events_enriched.platform,
        row_number() over (
            partition by events_enriched.device_id
            order by events_enriched.event_at desc, events_enriched.event_id desc
        ) as recency
    from events_enriched
    where {{ behavioral_analytics.device_increment_filter('events_enriched.device_id', 'mart_devices_touched') }}

),

final as (

    select
        -- ids
        devices.device_id,
        devices.anonymous_id,
        devices.person_id,
        devices.stitched_user_id,

        -- identity
        devices.is_shared,
        devices.user_id_count,

        -- probabilistic link (int_devices_described)
        devices.linked_person_id,
        devices.link_score,
        devices.is_linked,
        devices.link_candidate_count,
        devices.link_shares_exact_ip,
        devices.link_shared_ip_count,
        devices.link_shares_ip_network,
        devices.link_shares_locale,
        devices.link_shares_user_agent_family,
        devices.link_concurrent_sessions,

        -- non-human traffic
        devices.is_bot,
        devices.bot_reason,

        -- what the device is
        latest_user_agents.platform,
        latest_user_agents.user_agent_family,
        latest_user_agents.user_agent_version,
        latest_user_agents.device_class,

        -- activity (analysed events: consented, before any opt-out)
        devices.event_count,
        devices.session_count,
        devices.first_seen_at,
        devices.last_seen_at

    from devices
    left join latest_user_agents
        on devices.device_id = latest_user_agents.device_id
            and latest_user_agents.recency = 1

)

select * from final
