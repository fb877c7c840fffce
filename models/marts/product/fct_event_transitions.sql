{{ config(contract={'enforced': true}) }}

-- One row per platform ('all' and each platform) x from_event_name x
-- to_event_name: the first-order Markov chain of consecutive events within
-- person sessions, with the pseudo-states (session_start) and (session_end).

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

ordered as (

    select
        events.person_id,
        events.session_id,
        events.event_name,
        events.event_at,
        first_value(events.platform) over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
            rows between unbounded preceding and unbounded following
        ) as session_platform,
        lead(events.event_name) over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
        ) as next_event_name,
        lead(events.event_at) over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
        ) as next_event_at,
        row_number() over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
        ) as event_index
    from events

),

-- every event to its successor, the session's end after its last event
transitions as (

    select
        ordered.person_id,
        ordered.session_id,
        ordered.session_platform,
        ordered.event_name as from_event_name,
        coalesce(ordered.next_event_name, '(session_end)') as to_event_name,
        (
            {{ behavioral_analytics.epoch_microseconds('ordered.next_event_at') }}
            - {{ behavioral_analytics.epoch_microseconds('ordered.event_at') }}
        ) / 1000000.0 as seconds_between
    from ordered

    union all

    select
        ordered.person_id,
        ordered.session_id,
        ordered.session_platform,
        '(session_start)' as from_event_name,
        ordered.event_name as to_event_name,
        null as seconds_between
    from ordered
    where ordered.event_index = 1

),

by_platform as (

    select
        'all' as platform,
        transitions.*
    from transitions

    union all

    select
        transitions.session_platform as platform,
        transitions.*
    from transitions

),

counted as (

    select
        by_platform.platform,
        by_platform.from_event_name,
        by_platform.to_event_name,
        count(*) as transition_count,
        count(distinct by_platform.session_id) as session_count,
        count(distinct by_platform.person_id) as person_count,
        {{ behavioral_analytics.median('by_platform.seconds_between') }} as median_seconds
    from by_platform
    group by by_platform.platform, by_platform.from_event_name, by_platform.to_event_name

),

final as (

    select
        counted.platform,
        counted.from_event_name,
        counted.to_event_name,
        cast(counted.transition_count as {{ dbt.type_bigint() }}) as transition_count,
        cast(counted.session_count as {{ dbt.type_bigint() }}) as session_count,
        cast(counted.person_count as {{ dbt.type_bigint() }}) as person_count,
        cast(
            counted.transition_count * 1.0
            / sum(counted.transition_count) over (partition by counted.platform, counted.from_event_name)
            as {{ behavioral_analytics.type_double() }}
        ) as transition_probability,
        cast(counted.median_seconds as {{ behavioral_analytics.type_double() }}) as median_seconds
    from counted

)

select * from final
