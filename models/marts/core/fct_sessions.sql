-- incremental runs: the pre-hook deletes the rows of the devices
-- int_mart_devices_touched lists, from the session each is recomputed from on
-- (recompute_from_session_index; whole when none), and the model computes
-- those sessions again
-- (a session belongs to one device)
-- (the enforced contract checks the columns; on_schema_change='fail' would
-- also compare types, and PostgreSQL reads the contract's varchar as text)
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
    pre_hook="{{ behavioral_analytics.device_lookback_prepare(ref('int_mart_devices_touched'), by='session') }}",
) }}

{%- set page_view_events = var('behavior__page_view_events') -%}
{%- set ending_events = var('behavior__session_ending_events') -%}

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('fct_events') }}

),

devices_stitched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_stitched') }}

),

mart_devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_mart_devices_touched') }}

),

-- fct_events: human events only, revenue converted to the reporting currency
events_sessionized as {{ behavioral_analytics.inlined_cte() }} (

    select events.*
    from events
    -- incremental: only the devices whose sessions changed, from the session
    -- each is recomputed from on
    {{ behavioral_analytics.device_lookback_join('events', 'mart_devices_touched', by='session') }}

),

-- Each reference below reads only the columns it needs of the events (a
-- materialized CTE would write every column of every event and scan it
-- back). A session's events are numbered 1..event_count in the device's
-- order (event_at, event_id), so its first and last events need no window.
positioned as {{ behavioral_analytics.inlined_cte() }} (

    select
        events_sessionized.*,
        {{ behavioral_analytics.in_list('events_sessionized.event_name', page_view_events) }} as is_page_view
    from events_sessionized

),

page_views as (

    select
        positioned.session_id,
        coalesce(positioned.page_path, positioned.screen_name) as page,
        row_number() over (
            partition by positioned.session_id
            order by positioned.event_at, positioned.event_id
        ) as page_view_index,
        row_number() over (
            partition by positioned.session_id
            order by positioned.event_at desc, positioned.event_id desc
        ) as page_view_index_from_end
    from positioned
    where positioned.is_page_view

),

identified_events as (

    select
        positioned.session_id,
        positioned.user_id,
        row_number() over (
            partition by positioned.session_id
            order by positioned.event_at desc, positioned.event_id desc
        ) as identified_index_from_end
    from positioned
    where positioned.user_id is not null

),

aggregated as (

    select
        positioned.session_id,
        positioned.device_id,
        positioned.session_index,
        min(positioned.event_at) as session_start_at,
        max(positioned.event_at) as session_end_at,
        count(*) as event_count,
        sum(case when positioned.is_page_view then 1 else 0 end) as page_view_count,
        count(distinct positioned.user_id) as user_id_count,
        sum(coalesce(positioned.revenue_in_reporting_currency, 0)) as revenue,
        sum(
            case
                when positioned.revenue is not null and positioned.revenue_in_reporting_currency is null
                    then 1
                else 0
            end
        ) as unconverted_revenue_event_count
    from positioned
    group by positioned.session_id, positioned.device_id, positioned.session_index

),

first_events as (

    select * from positioned
    where event_index_in_session = 1

),

last_events as (

    select positioned.*
    from positioned
    inner join aggregated
        on
            positioned.session_id = aggregated.session_id
            and positioned.event_index_in_session = aggregated.event_count

),

sessions as (

    select
        -- ids
        aggregated.session_id,
        aggregated.device_id,
        first_events.anonymous_id,
        last_identified.user_id,
        -- the session's one account when it has one, else its device's person
        -- (none for an anonymous session on a shared device)
        case
            when aggregated.user_id_count = 1
                then {{ behavioral_analytics.person_id_for_user('last_identified.user_id') }}
            when aggregated.user_id_count = 0 then devices_stitched.person_id
        end as person_id,

        -- session
        -- the device's probabilistic link (above behavior__link_min_score),
        -- never mixed into person_id
        first_events.linked_person_id,

        aggregated.session_index,
        first_events.platform,
        aggregated.session_start_at,
        aggregated.session_end_at,
        cast(
            (
                {{ behavioral_analytics.epoch_microseconds('aggregated.session_end_at') }}
                - {{ behavioral_analytics.epoch_microseconds('aggregated.session_start_at') }}
            ) / 1000000.0
            as {{ behavioral_analytics.type_double() }}
        ) as duration_seconds,
        cast({{ dbt.date_trunc('day', 'aggregated.session_start_at') }} as date) as session_start_date,

        -- activity
        cast(aggregated.event_count as {{ dbt.type_int() }}) as event_count,
        cast(aggregated.page_view_count as {{ dbt.type_int() }}) as page_view_count,
        cast(aggregated.user_id_count as {{ dbt.type_int() }}) as user_id_count,
        cast(aggregated.revenue as {{ behavioral_analytics.type_double() }}) as revenue,
        cast(aggregated.unconverted_revenue_event_count as {{ dbt.type_int() }}) as unconverted_revenue_event_count,
        first_events.event_id as first_event_id,
        last_events.event_id as last_event_id,
        entry_pages.page as entry_page,
        exit_pages.page as exit_page,

        -- flags
        aggregated.event_count = 1 as is_bounce,
        {{ behavioral_analytics.in_list('last_events.event_name', ending_events) }} as is_ended_by_logout

    from aggregated
    inner join first_events
        on aggregated.session_id = first_events.session_id
    inner join last_events
        on aggregated.session_id = last_events.session_id
    left join page_views as entry_pages
        on aggregated.session_id = entry_pages.session_id
            and entry_pages.page_view_index = 1
    left join page_views as exit_pages
        on aggregated.session_id = exit_pages.session_id
            and exit_pages.page_view_index_from_end = 1
    left join identified_events as last_identified
        on aggregated.session_id = last_identified.session_id
            and last_identified.identified_index_from_end = 1
    left join devices_stitched
        on aggregated.device_id = devices_stitched.device_id

)

select * from sessions
