{{ config(materialized='view') }}

-- The analysed events (consented, before any opt-out) with what is known of
-- their device: non-human traffic stays here, flagged; the probabilistic link
-- is only present above the threshold; the user agent only as family,
-- version and device class.

with

events_sessionized as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_sessionized') }}

),

devices_profiled as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_profiled') }}

),

devices_linked as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_linked') }}

),

user_agents_parsed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_user_agents_parsed') }}

),

enriched as (

    select
        events_sessionized.*,
        devices_profiled.is_bot,
        devices_profiled.bot_reason,
        case when devices_linked.is_linked then devices_linked.linked_person_id end as linked_person_id,
        case when devices_linked.is_linked then devices_linked.link_score end as link_score,
        user_agents_parsed.user_agent_family,
        user_agents_parsed.user_agent_version,
        user_agents_parsed.device_class
    from events_sessionized
    inner join devices_profiled
        on events_sessionized.device_id = devices_profiled.device_id
    left join devices_linked
        on events_sessionized.device_id = devices_linked.device_id
    left join user_agents_parsed
        on events_sessionized.user_agent = user_agents_parsed.user_agent

)

-- every staged column passes through
select * from enriched  -- noqa: AM04
