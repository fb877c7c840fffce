{{ config(severity='warn', tags=['taxonomy']) }}

-- Reports every event name seen in the data but missing from the
-- event_taxonomy seed, with how often and since when. Those events are kept
-- (flagged is_known_event_name = false); add them to the seed to register them.

with

events as (

    select * from {{ ref('stg_tracker__events') }}

),

unknown_names as (

    select
        events.event_name,
        count(*) as events_seen,
        min(events.event_at) as first_seen_at,
        max(events.event_at) as last_seen_at
    from events
    where not events.is_known_event_name
    group by events.event_name

)

select * from unknown_names
