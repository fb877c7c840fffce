{{ config(contract={'enforced': true}) }}

-- The unified timeline: web, app, server and offline events of people, each
-- once, with consent, before any opt-out.

with

events_enriched as (

    select * from {{ ref('int_events_enriched') }}

),

-- no behavioural mart uses non-human traffic
human_events as (

    select * from events_enriched
    where not is_bot

),

final as (

    select
        -- ids
        human_events.event_id,
        human_events.device_id,
        human_events.anonymous_id,
        human_events.user_id,
        human_events.person_id,
        human_events.linked_person_id,
        cast(human_events.link_score as {{ behavioral_analytics.type_double() }}) as link_score,
        human_events.session_id,

        -- event
        human_events.event_name,
        human_events.is_known_event_name,
        human_events.platform,
        human_events.event_at,
        cast({{ dbt.date_trunc('day', 'human_events.event_at') }} as date) as event_date,
        human_events.received_at,
        cast(human_events.event_ts_utc_offset_minutes as {{ dbt.type_int() }}) as event_ts_utc_offset_minutes,
        cast(human_events.session_index as {{ dbt.type_bigint() }}) as session_index,
        cast(human_events.event_index_in_session as {{ dbt.type_bigint() }}) as event_index_in_session,

        -- properties (PII keys removed)
        human_events.page_path,
        human_events.screen_name,
        human_events.product_id,
        human_events.order_id,
        cast(human_events.revenue as {{ behavioral_analytics.type_double() }}) as revenue,
        human_events.currency,
        cast(human_events.properties as {{ dbt.type_string() }}) as properties,

        -- context (pseudonymised)
        human_events.ip_hash,
        human_events.user_agent_family,
        human_events.user_agent_version,
        human_events.device_class,
        human_events.locale,
        human_events.app_version

    from human_events

)

select * from final
