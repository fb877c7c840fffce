-- One row per person x local date (reporting time zone) with an active
-- event, before the as-of moment: the activity grid of retention, lifecycle,
-- stickiness and daily active users.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

active_days as (

    select
        events.person_id,
        events.event_local_date as activity_date,
        events.week_start_date,
        events.month_start_date,
        count(*) as active_event_count
    from events
    where events.is_active
    group by
        events.person_id,
        events.event_local_date,
        events.week_start_date,
        events.month_start_date

)

select * from active_days
