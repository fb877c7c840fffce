-- incremental runs: the pre-hook deletes the rows of the devices
-- int_devices_touched lists, from the activity block each is recomputed from
-- on (the whole device when it names none), and the model computes those
-- rows again, numbering sessions on from the ones kept
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ behavioral_analytics.device_lookback_prepare(ref('int_devices_touched')) }}",
) }}

{%- set timeout_us = var('behavior__session_timeout_minutes') * 60 * 1000000 -%}
{%- set max_length_minutes = var('behavior__session_max_length_minutes') -%}
{%- set max_length_us = (max_length_minutes or 0) * 60 * 1000000 -%}
{%- set ending_events = var('behavior__session_ending_events') -%}

with

events_attributed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_touched') }}

),

-- the contract: an event without analytics consent is counted (in
-- fct_daily_consent), never analysed, so it takes no part in sessions; nor
-- does anything of a person after their opt-out. Read twice (the narrow
-- windows, the wide columns at the end) and inlined at each read: a
-- materialized copy of every wide row was what spilled (10M analysed events
-- of the 30M run: 69 s with 7.8-7.9 GiB of spill, 40 s inlined with 1.1 GiB)
events as {{ behavioral_analytics.inlined_cte() }} (

    select
        events_attributed.*,
        -- the sessions the device keeps before them (none on a full build:
        -- no join, which cost the model alone at 10M 1.15x -> 1.30x of the
        -- same-output floor)
        {{ behavioral_analytics.device_lookback_kept_sessions() }} as kept_session_count
    from events_attributed
    -- incremental: only the devices whose analysed events changed, from the
    -- activity block before their first change on
    {{ behavioral_analytics.device_lookback_join('events_attributed', 'devices_touched') }}
    where events_attributed.is_analysed

),

-- the windows run on the four columns the rule needs; the event's other
-- columns join back once at the end (sorting wide rows is what costs).
-- Incremental: the sessions a device keeps before its first recomputed
-- event, numbered on from (that event starts an activity block: it is the
-- first of its device here, so the rule below starts one)
narrow as (

    select
        events.event_id,
        events.device_id,
        events.event_at,
        events.event_name,
        events.kept_session_count
    from events

),

-- Three passes over each device's events in the contract's order (event_at,
-- then event_id), all with the one window below, so each sorts by the same
-- key: the previous event; the activity block; the session. A session's
-- number, first event and position are running values of that order, not
-- windows of their own (each other window sorted all events again).
-- pass 1: the previous event, and the event's number on its device
with_previous as (

    select
        narrow.*,
        {{ behavioral_analytics.epoch_microseconds('narrow.event_at') }} as event_at_us,
        {{ behavioral_analytics.epoch_microseconds('lag(narrow.event_at) over device_order') }}
            as previous_event_at_us,
        lag(narrow.event_name) over device_order as previous_event_name,
        row_number() over device_order as device_event_number
    from narrow
    window device_order as (partition by narrow.device_id order by narrow.event_at, narrow.event_id)

),

-- a new activity block starts after a gap greater than the timeout (a gap
-- of exactly the timeout stays) or after a session-ending event
flagged as (

    select
        with_previous.*,
        case
            when with_previous.previous_event_at_us is null then 1
            when {{ behavioral_analytics.in_list('with_previous.previous_event_name', ending_events) }} then 1
            when with_previous.event_at_us - with_previous.previous_event_at_us > {{ timeout_us }} then 1
            else 0
        end as starts_block
    from with_previous

),

-- pass 2: the time of the block's first event (event times never decrease
-- in this order, so the latest block start so far is the greatest)
blocked as (

    select
        flagged.*,
        max(case when flagged.starts_block = 1 then flagged.event_at_us end) over device_so_far
            as block_started_at_us
    from flagged
    window device_so_far as (
        partition by flagged.device_id
        order by flagged.event_at, flagged.event_id
        rows between unbounded preceding and current row
    )

),

-- a session starts with its block, or where a block longer than the
-- maximum session length enters its next window of that length (counted
-- from the block's first event; the previous event is in the same block)
windowed as (

    select
        blocked.*,
        {% if max_length_minutes is none -%}
            blocked.starts_block as starts_session
        {%- else -%}
            case
                when blocked.starts_block = 1 then 1
                when floor((blocked.event_at_us - blocked.block_started_at_us) / {{ max_length_us }})
                    > floor((blocked.previous_event_at_us - blocked.block_started_at_us) / {{ max_length_us }})
                    then 1
                else 0
            end as starts_session
        {%- endif %}
    from blocked

),

-- pass 3: the session's number on its device, and its first event's number
numbered as (

    select
        windowed.*,
        windowed.kept_session_count + sum(windowed.starts_session) over device_so_far as session_index,
        max(case when windowed.starts_session = 1 then windowed.device_event_number end) over device_so_far
            as session_first_number
    from windowed
    window device_so_far as (
        partition by windowed.device_id
        order by windowed.event_at, windowed.event_id
        rows between unbounded preceding and current row
    )

),

session_starts as (

    select
        numbered.device_id,
        numbered.device_event_number,
        numbered.event_id
    from numbered
    where numbered.starts_session = 1

),

-- the stable session id: its device and its first event
positions as (

    select
        numbered.event_id,
        {{ dbt.hash(dbt.concat(['numbered.device_id', "'|'", 'session_starts.event_id'])) }} as session_id,
        numbered.session_index,
        numbered.device_event_number - numbered.session_first_number + 1 as event_index_in_session,
        numbered.starts_block = 1 as starts_activity_block
    from numbered
    inner join session_starts
        on
            numbered.device_id = session_starts.device_id
            and numbered.session_first_number = session_starts.device_event_number

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
        positions.starts_activity_block,

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
