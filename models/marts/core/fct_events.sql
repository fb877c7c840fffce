-- incremental runs: the pre-hook deletes the rows of the devices
-- int_mart_devices_touched lists, from the session each is recomputed from on
-- (recompute_from_session_index; whole when none), and the model computes
-- those rows again
-- depends_on: {{ ref('int_mart_persons_touched') }}
-- (it reads the persons of fct_events as built: it must run before this model)
-- (the enforced contract checks the columns; on_schema_change='fail' would
-- also compare types, and PostgreSQL reads the contract's varchar as text)
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
    pre_hook="{{ behavioral_analytics.device_lookback_prepare(ref('int_mart_devices_touched'), by='session') }}",
) }}

-- The unified timeline: web, app, server and offline events of people, each
-- once, with consent, before any opt-out.

with

events_enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_enriched') }}

),

mart_devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_mart_devices_touched') }}

),

currency_rates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('currency_rates') }}

),

-- no behavioural mart uses non-human traffic
human_events as (

    select events_enriched.*
    from events_enriched
    -- incremental: only the devices whose rows changed, from the session each
    -- is recomputed from on
    {{ behavioral_analytics.device_lookback_join('events_enriched', 'mart_devices_touched', by='session') }}
    where not events_enriched.is_bot

),

reporting_rate as (

    select currency_rates.units_per_eur
    from currency_rates
    where currency_rates.currency = '{{ var("behavior__reporting_currency") | upper }}'

),

converted as (

    select
        human_events.*,
        {{ behavioral_analytics.convert_currency(
            'human_events.revenue', 'human_events.currency',
            'event_rates.units_per_eur', 'reporting_rate.units_per_eur'
        ) }} as revenue_in_reporting_currency
    from human_events
    left join currency_rates as event_rates
        on upper(human_events.currency) = event_rates.currency
    -- a reporting currency missing from the seed converts nothing (a test names it)
    left join reporting_rate
        on 1 = 1

),

final as (

    select
        -- ids
        converted.event_id,
        converted.device_id,
        converted.anonymous_id,
        converted.user_id,
        converted.person_id,
        converted.linked_person_id,
        cast(converted.link_score as {{ behavioral_analytics.type_double() }}) as link_score,
        converted.session_id,

        -- event
        converted.event_name,
        converted.is_known_event_name,
        converted.platform,
        converted.event_at,
        cast({{ dbt.date_trunc('day', 'converted.event_at') }} as date) as event_date,
        converted.received_at,
        cast(converted.event_ts_utc_offset_minutes as {{ dbt.type_int() }}) as event_ts_utc_offset_minutes,
        cast(converted.session_index as {{ dbt.type_bigint() }}) as session_index,
        cast(converted.event_index_in_session as {{ dbt.type_bigint() }}) as event_index_in_session,

        -- properties (PII keys removed)
        converted.page_path,
        converted.screen_name,
        converted.product_id,
        converted.order_id,
        cast(converted.revenue as {{ behavioral_analytics.type_double() }}) as revenue,
        converted.currency,
        cast(converted.revenue_in_reporting_currency as {{ behavioral_analytics.type_double() }})
            as revenue_in_reporting_currency,
        cast(converted.properties as {{ dbt.type_string() }}) as properties,

        -- context (pseudonymised)
        converted.ip_hash,
        converted.user_agent_family,
        converted.user_agent_version,
        converted.device_class,
        converted.locale,
        converted.app_version

    from converted

)

select * from final
