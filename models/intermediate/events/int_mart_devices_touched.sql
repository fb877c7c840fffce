-- The state of the per-device increment of the event and session marts
-- (fct_events, fct_sessions) and dim_devices, built before them: which devices they recompute
-- this run. Like int_devices_touched for the sessions model, it compares what
-- the marts would hold now (from int_events_enriched) with what they hold as
-- built (their relations, not refs: a ref would be a cycle), per device. So a
-- device is recomputed when its events or sessions changed, and also when
-- only something outside them did (its bot flag, its probabilistic link,
-- which depends on other devices, the user agent rules, the currency rates,
-- the page view events), or when a build was killed between the two marts;
-- and when its dim_devices row (int_devices_described) changed. A device
-- whose events changed is recomputed in fct_events and fct_sessions from its
-- last session before the first day whose events changed
-- (recompute_from_session_index).
-- When either mart is built whole this run, every device is listed
-- (full_build).

{%- set built_events = behavioral_analytics.device_increment_built_relation('fct_events') -%}
{%- set built_sessions_relation = behavioral_analytics.device_increment_built_relation('fct_sessions') -%}
{%- set is_full_build = built_events is none or built_sessions_relation is none -%}
{%- set built_devices_relation = behavioral_analytics.device_increment_built_relation('dim_devices') -%}
-- an event row of fct_events is recomputed when any of these changed
{%- set event_columns = [
    'event_id', 'event_at', 'received_at', 'person_id', 'event_name', 'session_id', 'session_index',
    'event_index_in_session', 'linked_person_id', 'link_score', 'user_agent_family',
    'user_agent_version', 'device_class', 'revenue_in_reporting_currency',
] -%}
-- a session row of fct_sessions is recomputed when any of these changed
{%- set session_columns = [
    'session_id', 'session_index', 'event_count', 'page_view_count', 'session_start_at',
    'session_end_at', 'person_id', 'linked_person_id',
] -%}
-- a row of dim_devices is recomputed when any of its columns but the latest
-- user agent's changed (those change with the device's events)
{%- set device_columns = [
    'anonymous_id', 'person_id', 'stitched_user_id', 'is_shared', 'user_id_count', 'linked_person_id',
    'link_score', 'is_linked', 'link_candidate_count', 'link_shares_exact_ip', 'link_shared_ip_count',
    'link_shares_ip_network', 'link_shares_locale', 'link_shares_user_agent_family',
    'link_concurrent_sessions', 'is_bot', 'bot_reason', 'event_count', 'session_count', 'first_seen_at',
    'last_seen_at',
] %}

with

events_enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_enriched') }}

),

devices_described as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_described') }}

),

currency_rates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('currency_rates') }}

),

-- as fct_events converts revenue (so new rates or another reporting
-- currency recompute the devices with revenue)
reporting_rate as (

    select currency_rates.units_per_eur
    from currency_rates
    where currency_rates.currency = '{{ var("behavior__reporting_currency") | upper }}'

),

-- the input of fct_events: no behavioural mart uses non-human traffic
human_events as (

    select
        events_enriched.device_id,
        events_enriched.event_id,
        events_enriched.event_at,
        events_enriched.received_at,
        events_enriched.person_id,
        events_enriched.user_id,
        events_enriched.event_name,
        events_enriched.session_id,
        cast(events_enriched.session_index as {{ dbt.type_bigint() }}) as session_index,
        cast(events_enriched.event_index_in_session as {{ dbt.type_bigint() }}) as event_index_in_session,
        events_enriched.linked_person_id,
        cast(events_enriched.link_score as {{ behavioral_analytics.type_double() }}) as link_score,
        events_enriched.user_agent_family,
        events_enriched.user_agent_version,
        events_enriched.device_class,
        cast(
            {{ behavioral_analytics.convert_currency(
                'events_enriched.revenue', 'events_enriched.currency',
                'event_rates.units_per_eur', 'reporting_rate.units_per_eur'
            ) }} as {{ behavioral_analytics.type_double() }}
        ) as revenue_in_reporting_currency,
        {{ behavioral_analytics.in_list('events_enriched.event_name', var('behavior__page_view_events')) }}
            as is_page_view
    from events_enriched
    left join currency_rates as event_rates
        on upper(events_enriched.currency) = event_rates.currency
    left join reporting_rate
        on 1 = 1
    where not events_enriched.is_bot

),

-- the signature of each device's rows of fct_events per day, now
current_event_days as (

    {{ behavioral_analytics.device_day_signatures('human_events', event_columns) }}

),

current_event_signatures as (

    {{ behavioral_analytics.device_signatures_from_days('current_event_days') }}

),

-- the sessions fct_sessions would hold now, in the columns it is compared on:
-- its person is the session's one account's, else (no account) its device's,
-- which is every anonymous event's person_id (int_events_attributed)
current_sessions as (

    select
        human_events.device_id,
        human_events.session_id,
        max(human_events.session_index) as session_index,
        cast(count(*) as {{ dbt.type_bigint() }}) as event_count,
        cast(sum(case when human_events.is_page_view then 1 else 0 end) as {{ dbt.type_bigint() }})
            as page_view_count,
        min(human_events.event_at) as session_start_at,
        max(human_events.event_at) as session_end_at,
        case
            when count(distinct human_events.user_id) = 1
                then max(case when human_events.user_id is not null then human_events.person_id end)
            when count(distinct human_events.user_id) = 0 then max(human_events.person_id)
        end as person_id,
        max(human_events.linked_person_id) as linked_person_id
    from human_events
    group by human_events.device_id, human_events.session_id

),

current_session_signatures as (

    select
        current_sessions.device_id,
        count(*) as row_count,
        {{ behavioral_analytics.signature_agg(session_columns, 'current_sessions') }} as signature
    from current_sessions
    group by current_sessions.device_id

),

-- the same signatures of the marts as built; none when they are built whole
-- this run (first build, --full-refresh, Spark)
built_event_days as (

    {{ behavioral_analytics.device_day_signatures(
        none if is_full_build else built_events, event_columns, empty_like='current_event_days'
    ) }}

),

built_event_signatures as (

    {{ behavioral_analytics.device_signatures_from_days('built_event_days') }}

),

-- fct_sessions as built, typed as current_sessions
built_sessions as (

    {% if is_full_build %}
        select current_sessions.*
        from current_sessions
        where 1 = 0
    {% else %}
        select
            sessions.device_id,
            sessions.session_id,
            sessions.session_index,
            cast(sessions.event_count as {{ dbt.type_bigint() }}) as event_count,
            cast(sessions.page_view_count as {{ dbt.type_bigint() }}) as page_view_count,
            sessions.session_start_at,
            sessions.session_end_at,
            sessions.person_id,
            sessions.linked_person_id
        from {{ built_sessions_relation }} as sessions
    {% endif %}

),

built_session_signatures as (

    select
        built_sessions.device_id,
        count(*) as row_count,
        {{ behavioral_analytics.signature_agg(session_columns, 'built_sessions') }} as signature
    from built_sessions
    group by built_sessions.device_id

),

current_devices as (

    select
        current_event_signatures.device_id,
        current_event_signatures.row_count,
        current_event_signatures.signature as event_signature,
        current_session_signatures.signature as session_signature
    from current_event_signatures
    inner join current_session_signatures
        on current_event_signatures.device_id = current_session_signatures.device_id

),

built_devices as (

    select
        coalesce(built_event_signatures.device_id, built_session_signatures.device_id) as device_id,
        coalesce(built_event_signatures.row_count, 0) as row_count,
        built_event_signatures.signature as event_signature,
        built_session_signatures.signature as session_signature
    from built_event_signatures
    full outer join built_session_signatures
        on built_event_signatures.device_id = built_session_signatures.device_id

),

-- A device whose events changed is recomputed from its last session that
-- starts before its first difference (the start of its first day whose
-- rows differ), not whole: the sessions before it hold only events that are
-- the same now, so their rows in both marts are.
first_event_differences as (

    {{ behavioral_analytics.first_changed_days('current_event_days', 'built_event_days') }}

),

-- the last built session that starts before it
recompute_from as (

    {% if is_full_build -%}
        select
            first_event_differences.device_id,
            cast(null as {{ dbt.type_bigint() }}) as recompute_from_session_index
        from first_event_differences
        where 1 = 0
    {%- else -%}
        select
            built_events.device_id,
            max(built_events.session_index) as recompute_from_session_index
        from {{ built_events }} as built_events
        inner join first_event_differences
            on built_events.device_id = first_event_differences.device_id
        where
            built_events.event_index_in_session = 1
            and built_events.event_at < first_event_differences.first_difference_at
        group by built_events.device_id
    {%- endif %}

),

compared as (

    select
        coalesce(current_devices.device_id, built_devices.device_id) as device_id,
        {% if is_full_build -%}
            'full_build'
        {%- else -%}
            case
                when built_devices.device_id is null then 'new'
                when current_devices.device_id is null then 'removed'
                when current_devices.event_signature != built_devices.event_signature
                    or built_devices.event_signature is null
                    or current_devices.row_count != built_devices.row_count
                    then 'events_changed'
                when current_devices.session_signature != built_devices.session_signature
                    or built_devices.session_signature is null
                    then 'sessions_changed'
            end
        {%- endif %} as change_reason,
        coalesce(current_devices.row_count, 0) as current_event_count,
        -- not read on a full build
        {% if is_full_build -%}
            cast(null as {{ dbt.type_bigint() }})
        {%- else -%}
            coalesce(built_devices.row_count, 0)
        {%- endif %} as built_event_count,
        recompute_from.recompute_from_session_index
    from current_devices
    full outer join built_devices
        on current_devices.device_id = built_devices.device_id
    left join recompute_from
        on coalesce(current_devices.device_id, built_devices.device_id) = recompute_from.device_id

),

-- dim_devices (bots too): a signature of each device's row as it would be
-- now and as built; none when it is built whole this run
current_device_signatures as (

    select
        devices_described.device_id,
        count(*) as row_count,
        {{ behavioral_analytics.signature_agg(device_columns, 'devices_described') }} as signature
    from devices_described
    group by devices_described.device_id

),

built_device_signatures as (

    {{ behavioral_analytics.built_signatures(built_devices_relation, device_columns, 'current_device_signatures') }}

),

devices_compared as (

    select
        coalesce(current_device_signatures.device_id, built_device_signatures.device_id) as device_id,
        'device_changed' as change_reason
    from current_device_signatures
    full outer join built_device_signatures
        on current_device_signatures.device_id = built_device_signatures.device_id
    {% if is_full_build or built_devices_relation is none -%}
        -- every row is rebuilt (full_build) or dim_devices is built whole
        where 1 = 0
    {%- else -%}
        -- null-safe: different, or only one of them null (a new or a gone device)
        where coalesce(
                current_device_signatures.signature != built_device_signatures.signature,
                current_device_signatures.signature is not null or built_device_signatures.signature is not null
            )
    {%- endif %}

),

all_compared as (

    select
        coalesce(compared.device_id, devices_compared.device_id) as device_id,
        coalesce(compared.change_reason, devices_compared.change_reason) as change_reason,
        coalesce(compared.current_event_count, 0) as current_event_count,
        {% if is_full_build -%}
            compared.built_event_count
        {%- else -%}
            coalesce(compared.built_event_count, 0)
        {%- endif %} as built_event_count,
        -- only a device whose events changed has a starting point
        case
            when compared.change_reason = 'events_changed' then compared.recompute_from_session_index
        end as recompute_from_session_index
    from compared
    full outer join devices_compared
        on compared.device_id = devices_compared.device_id
    where coalesce(compared.change_reason, devices_compared.change_reason) is not null

),

touched as (

    select
        all_compared.device_id,
        cast(all_compared.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(all_compared.current_event_count as {{ dbt.type_bigint() }}) as current_event_count,
        cast(all_compared.built_event_count as {{ dbt.type_bigint() }}) as built_event_count,
        cast(all_compared.recompute_from_session_index as {{ dbt.type_bigint() }})
            as recompute_from_session_index,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from all_compared

)

select * from touched
