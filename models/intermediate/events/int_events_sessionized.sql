-- incremental runs: the pre-hook deletes the rows of the devices
-- int_devices_touched lists, and the model computes those devices again
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ behavioral_analytics.device_increment_prepare(ref('int_devices_touched')) }}",
) }}

{%- set timeout_us = var('behavior__session_timeout_minutes') * 60 * 1000000 -%}
{%- set max_length_minutes = var('behavior__session_max_length_minutes') -%}
{%- set ending_events = var('behavior__session_ending_events') -%}

with

events_attributed as (

    select * from {{ ref('int_events_attributed') }}

),

devices_touched as (

    select * from {{ ref('int_devices_touched') }}

),

-- the contract: an event without analytics consent is counted (in
-- fct_daily_consent), never analysed, so it takes no part in sessions; nor
-- does anything of a person after their opt-out
events as (

    select * from events_attributed
    where is_analysed
        -- incremental: only the devices whose analysed events changed, whole
        and {{ behavioral_analytics.device_increment_filter('device_id', 'devices_touched') }}

),

-- the windows run on the four columns the rule needs; the event's other
-- columns join back once at the end (sorting wide rows is what costs)
narrow as (

    select
        events.event_id,
        events.device_id,
        events.event_at,
        events.event_name
    from events

),

-- per device, in the contract's order: event_at, then event_id
with_previous as (

    select
        narrow.*,
        {{ behavioral_analytics.epoch_microseconds('narrow.event_at') }} as event_at_us,
        lag(narrow.event_at) over device_order as previous_event_at,
        lag(narrow.event_name) over device_order as previous_event_name
    from narrow
    window device_order as (partition by narrow.device_id order by narrow.event_at, narrow.event_id)

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

positions as (

    select
        numbered.event_id,
        {{ dbt.hash(dbt.concat(['numbered.device_id', "'|'", 'numbered.session_first_event_id'])) }} as session_id,
        numbered.session_index,
        row_number() over (
            partition by numbered.device_id, numbered.session_index
            order by numbered.event_at, numbered.event_id
        ) as event_index_in_session
    from numbered

),

sessionized as (

    select
        -- ids
        events.event_id,
        positions.session_id,
        events.device_id,
        events.anonymous_id,
        events.user_id,
        events.person_id,
        events.person_user_id,

        -- session position
        positions.session_index,
        positions.event_index_in_session,

        -- event
        events.event_name,
        events.is_known_event_name,
        events.platform,
        events.event_at,
        events.received_at,
        events.event_ts_utc_offset_minutes,
        events.page_path,
        events.screen_name,
        events.product_id,
        events.order_id,
        events.revenue,
        events.currency,
        events.properties,

        -- context (pseudonymised)
        events.ip_hash,
        events.ip_network,
        events.user_agent,
        events.locale,
        events.app_version

    from events
    inner join positions
        on events.event_id = positions.event_id

)

select * from sessionized
