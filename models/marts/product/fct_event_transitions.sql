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

-- the two kinds of transition an event is in: to its successor (the
-- session's end after its last event), and from (session_start) when it is
-- its session's first; one row per kind, so `ordered` is read once (read
-- twice, DuckDB writes it whole and scans it back)
transition_kinds as (

    select 'next' as transition_kind
    union all
    select 'start' as transition_kind

),

transitions as (

    select
        ordered.person_id,
        ordered.session_id,
        ordered.session_platform,
        case
            when transition_kinds.transition_kind = 'start' then '(session_start)'
            else ordered.event_name
        end as from_event_name,
        case
            when transition_kinds.transition_kind = 'start' then ordered.event_name
            else coalesce(ordered.next_event_name, '(session_end)')
        end as to_event_name,
        case
            when transition_kinds.transition_kind = 'next'
                then (
                    {{ behavioral_analytics.epoch_microseconds('ordered.next_event_at') }}
                    - {{ behavioral_analytics.epoch_microseconds('ordered.event_at') }}
                ) / 1000000.0
        end as seconds_between
    from ordered
    cross join transition_kinds
    where transition_kinds.transition_kind = 'next' or ordered.event_index = 1

),

-- each transition counts under 'all' and under its session's platform: two
-- grouping sets (a rollup of the platform) over the one input instead of a
-- union of two copies of it
counted as (

    select
        case
            when grouping(transitions.session_platform) = 1 then 'all'
            else transitions.session_platform
        end as platform,
        transitions.from_event_name,
        transitions.to_event_name,
        count(*) as transition_count,
        count(distinct transitions.session_id) as session_count,
        count(distinct transitions.person_id) as person_count,
        {{ behavioral_analytics.median('transitions.seconds_between') }} as median_seconds
    from transitions
    -- the grouping sets (from, to, platform) and (from, to)
    group by transitions.from_event_name, transitions.to_event_name, rollup(transitions.session_platform)

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
