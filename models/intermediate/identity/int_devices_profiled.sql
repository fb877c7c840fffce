{%- set min_gaps = var('behavior__bot_min_regular_gaps') -%}
{%- set max_variation = var('behavior__bot_max_gap_variation') -%}
{%- set max_per_minute = var('behavior__bot_max_events_per_minute') -%}
{%- set max_session_hours = var('behavior__bot_max_session_hours') -%}

with

events_sessionized as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_sessionized') }}

),

stg_tracker__events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

bot_user_agent_patterns as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('bot_user_agent_patterns') }}

),

-- gaps between consecutive events of one session (machines are regular)
gaps as (

    select
        events_sessionized.device_id,
        events_sessionized.session_index,
        {{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}
        - lag({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}) over (
            partition by events_sessionized.device_id, events_sessionized.session_index
            order by events_sessionized.event_at, events_sessionized.event_id
        ) as gap_us
    from events_sessionized

),

-- regularity per session: a machine keeps one rhythm within a run
session_gap_stats as (

    select
        gaps.device_id,
        gaps.session_index,
        count(gaps.gap_us) as gap_count,
        stddev_samp(gaps.gap_us) / nullif(avg(gaps.gap_us), 0) as gap_variation
    from gaps
    group by 1, 2

),

gap_stats as (

    select
        session_gap_stats.device_id,
        sum(session_gap_stats.gap_count) as gaps_in_sessions,
        min(case
            when session_gap_stats.gap_count >= {{ min_gaps }} then session_gap_stats.gap_variation
        end) as most_regular_gap_variation
    from session_gap_stats
    group by 1

),

per_minute as (

    select
        events_sessionized.device_id,
        {{ dbt.date_trunc('minute', 'events_sessionized.event_at') }} as event_minute,
        count(*) as events_in_minute
    from events_sessionized
    group by 1, 2

),

peaks as (

    select
        per_minute.device_id,
        max(per_minute.events_in_minute) as max_events_per_minute
    from per_minute
    group by 1

),

sessions as (

    select
        events_sessionized.device_id,
        events_sessionized.session_index,
        (
            max({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }})
            - min({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }})
        ) / 3600000000.0 as session_hours
    from events_sessionized
    group by 1, 2

),

activity as (

    select
        events_sessionized.device_id,
        count(*) as event_count,
        count(distinct events_sessionized.session_index) as session_count,
        count(distinct coalesce(events_sessionized.page_path, events_sessionized.screen_name))
            as distinct_pages,
        min(events_sessionized.event_at) as first_seen_at,
        max(events_sessionized.event_at) as last_seen_at
    from events_sessionized
    group by 1

),

longest as (

    select
        sessions.device_id,
        max(sessions.session_hours) as longest_session_hours
    from sessions
    group by 1

),

user_agents as (

    select distinct
        stg_tracker__events.device_id,
        stg_tracker__events.user_agent
    from stg_tracker__events
    where stg_tracker__events.has_analytics_consent and stg_tracker__events.user_agent is not null

),

user_agent_matches as (

    select
        user_agents.device_id,
        min(bot_user_agent_patterns.bot_kind) as bot_kind
    from user_agents
    inner join bot_user_agent_patterns
        on {{ behavioral_analytics.regex_contains('user_agents.user_agent', 'bot_user_agent_patterns.pattern') }}
    group by 1

),

profiled as (

    select
        activity.device_id,
        activity.event_count,
        activity.session_count,
        activity.distinct_pages,
        activity.first_seen_at,
        activity.last_seen_at,
        gap_stats.gaps_in_sessions,
        gap_stats.most_regular_gap_variation,
        peaks.max_events_per_minute,
        longest.longest_session_hours,
        user_agent_matches.bot_kind as user_agent_bot_kind
    from activity
    left join gap_stats
        on activity.device_id = gap_stats.device_id
    left join peaks
        on activity.device_id = peaks.device_id
    left join longest
        on activity.device_id = longest.device_id
    left join user_agent_matches
        on activity.device_id = user_agent_matches.device_id

),

flagged as (

    select
        profiled.*,
        case
            when profiled.user_agent_bot_kind is not null
                then 'user_agent:' || profiled.user_agent_bot_kind
            when profiled.most_regular_gap_variation <= {{ max_variation }}
                then 'regular_timing'
            when profiled.max_events_per_minute > {{ max_per_minute }} then 'event_rate'
            when profiled.longest_session_hours >= {{ max_session_hours }} then 'session_length'
        end as bot_reason
    from profiled

),

final as (

    select
        flagged.*,
        flagged.bot_reason is not null as is_bot
    from flagged

)

select * from final
