{{ config(contract={'enforced': true}) }}

-- The contract: an event without analytics consent is counted, not analysed;
-- so is every event of a person after their opt-out.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

daily as (

    select
        cast({{ dbt.date_trunc('day', 'events.event_at') }} as date) as event_date,
        count(*) as events,
        sum(case when events.has_analytics_consent then 1 else 0 end) as consented_events,
        sum(case when events.has_analytics_consent then 0 else 1 end) as events_without_consent,
        count(distinct case when not events.has_analytics_consent then events.device_id end)
            as devices_without_consent,
        sum(case when events.exclusion_reason = 'after_opt_out' then 1 else 0 end)
            as consented_events_after_opt_out,
        sum(case when events.is_analysed then 1 else 0 end) as analysed_events
    from events
    group by 1

),

final as (

    select
        daily.event_date,
        cast(daily.events as {{ dbt.type_bigint() }}) as events,
        cast(daily.consented_events as {{ dbt.type_bigint() }}) as consented_events,
        cast(daily.events_without_consent as {{ dbt.type_bigint() }}) as events_without_consent,
        cast(daily.devices_without_consent as {{ dbt.type_bigint() }}) as devices_without_consent,
        cast(daily.consented_events_after_opt_out as {{ dbt.type_bigint() }}) as consented_events_after_opt_out,
        cast(daily.analysed_events as {{ dbt.type_bigint() }}) as analysed_events,
        cast(daily.events_without_consent as {{ behavioral_analytics.type_double() }})
        / daily.events as share_without_consent
    from daily

)

select * from final
