{%- set activity_events = var('behavior__churn_activity_events') -%}

-- One row per person x local date with a churn-activity event
-- (behavior__churn_activity_events; any event when empty) before the as-of
-- moment: the label source of the churn model (churn = no such day in the
-- horizon after a snapshot) and its BTYD baseline's purchase history.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

activity_days as (

    select
        events.person_id,
        events.event_local_date as activity_date,
        count(*) as activity_event_count
    from events
    {% if activity_events | length > 0 -%}
        where {{ behavioral_analytics.in_list('events.event_name', activity_events) }}
    {%- endif %}
    group by events.person_id, events.event_local_date

)

select * from activity_days
