{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ behavioral_analytics.device_increment_prepare(
        'select * from ' ~ ref('int_events_attributed') ~ ' where is_analysed',
        ['event_id', 'event_at', 'received_at', 'person_id', 'person_user_id', 'event_name']
    ) }}",
    post_hook="{{ behavioral_analytics.device_increment_cleanup() }}",
) }}

{%- set timeout_us = var('behavior__session_timeout_minutes') * 60 * 1000000 -%}
{%- set max_length_minutes = var('behavior__session_max_length_minutes') -%}
{%- set ending_events = var('behavior__session_ending_events') -%}

with

events_attributed as (

    select * from {{ ref('int_events_attributed') }}

),

-- the contract: an event without analytics consent is counted (in
-- fct_daily_consent), never analysed, so it takes no part in sessions; nor
-- does anything of a person after their opt-out
events as (

    select * from events_attributed
    where is_analysed
        -- incremental: only the devices whose analysed events changed, whole
        and {{ behavioral_analytics.device_increment_filter('device_id') }}

),

-- per device, in the contract's order: event_at, then event_id
with_previous as (

    select
        events.*,
        {{ behavioral_analytics.epoch_microseconds('events.event_at') }} as event_at_us,
        lag(events.event_at) over device_order as previous_event_at,
        lag(events.event_name) over device_order as previous_event_name
    from events
    window device_order as (partition by events.device_id order by events.event_at, events.event_id)

),

-- a new activity block starts after a gap greater than the timeout (a gap
-- of exactly the timeout stays) or after a session-ending event
flagged as (

    select
        with_previous.*,
        case
            when with_previous.previous_event_at is null then 1
            when {{ behavioral_analytics.in_list('with_previous.previous_event_name', ending_events) }} then 1
            when with_previous.event_at_us
                - {{ behavioral_analytics.epoch_microseconds('with_previous.previous_event_at') }} > {{ timeout_us }}
                then 1
            else 0
        end as starts_block
    from with_previous

),

blocked as (

    select
        flagged.*,
        sum(flagged.starts_block) over (
            partition by flagged.device_id
            order by flagged.event_at, flagged.event_id
            rows between unbounded preceding and current row
        ) as activity_block_number
    from flagged

),

-- a block longer than the maximum session length is cut into windows of
-- that length from its first event
windowed as (

    select
        blocked.*,
        {% if max_length_minutes is none -%}
        0 as window_number
        {%- else -%}
            floor(
                (blocked.event_at_us - min(blocked.event_at_us) over (
                    partition by blocked.device_id, blocked.activity_block_number
                )) / {{ max_length_minutes * 60 * 1000000 }}
            ) as window_number
        {%- endif %}
    from blocked

),

numbered as (

    select
        windowed.*,
        dense_rank() over (
            partition by windowed.device_id
            order by windowed.activity_block_number, windowed.window_number
        ) as session_index,
        first_value(windowed.event_id) over (
            partition by windowed.device_id, windowed.activity_block_number, windowed.window_number
            order by windowed.event_at, windowed.event_id
            rows between unbounded preceding and unbounded following
        ) as session_first_event_id
    from windowed

),

sessionized as (

    select
        -- ids
        numbered.event_id,
        {{ dbt.hash(dbt.concat(['numbered.device_id', "'|'", 'numbered.session_first_event_id'])) }} as session_id,
        numbered.device_id,
        numbered.anonymous_id,
        numbered.user_id,
        numbered.person_id,
        numbered.person_user_id,

        -- session position
        numbered.session_index,
        row_number() over (
            partition by numbered.device_id, numbered.session_index
            order by numbered.event_at, numbered.event_id
        ) as event_index_in_session,

        -- event
        numbered.event_name,
        numbered.is_known_event_name,
        numbered.platform,
        numbered.event_at,
        numbered.received_at,
        numbered.event_ts_utc_offset_minutes,
        numbered.page_path,
        numbered.screen_name,
        numbered.product_id,
        numbered.order_id,
        numbered.revenue,
        numbered.currency,
        numbered.properties,

        -- context (pseudonymised)
        numbered.ip_hash,
        numbered.ip_network,
        numbered.user_agent,
        numbered.locale,
        numbered.app_version

    from numbered

)

select * from sessionized
