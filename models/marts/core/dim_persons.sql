-- incremental runs: the pre-hook deletes the rows of the persons
-- int_mart_persons_touched lists, and the model computes those persons again
-- (the enforced contract checks the columns; on_schema_change='fail' would
-- also compare types, and PostgreSQL reads the contract's varchar as text)
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    contract={'enforced': true},
    pre_hook="{{ behavioral_analytics.device_increment_prepare(ref('int_mart_persons_touched'), 'person_id') }}",
) }}

with

events_enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_enriched') }}

),

events_attributed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

devices_linked as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_linked') }}

),

mart_persons_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_mart_persons_touched') }}

),

-- people only, and only what may be analysed
human_events as (

    select * from events_enriched
    where {{ behavioral_analytics.person_mart_events('events_enriched') }}
        -- incremental: only the persons whose row changed, whole
        and {{ behavioral_analytics.device_increment_filter('person_id', 'mart_persons_touched', 'person_id') }}

),

activity as (

    select
        human_events.person_id,
        max(human_events.person_user_id) as user_id,
        count(distinct human_events.device_id) as device_count,
        min(human_events.event_at) as first_seen_at,
        max(human_events.event_at) as last_seen_at,
        count(*) as event_count,
        count(distinct human_events.session_id) as session_count
    from human_events
    group by 1

),

person_platforms as (

    select distinct
        human_events.person_id,
        human_events.platform
    from human_events

),

platforms as (

    select
        person_platforms.person_id,
        {{ behavioral_analytics.sorted_listagg('person_platforms.platform', "'|'") }} as platforms
    from person_platforms
    group by 1

),

opt_outs as (

    select
        events_attributed.person_id,
        min(events_attributed.person_opted_out_at) as opted_out_at
    from events_attributed
    where events_attributed.person_opted_out_at is not null
    group by 1

),

links as (

    select
        devices_linked.linked_person_id as person_id,
        count(*) as linked_device_count
    from devices_linked
    where devices_linked.is_linked
    group by 1

),

final as (

    select
        activity.person_id,
        activity.user_id,
        activity.user_id is not null as is_identified,
        cast(activity.device_count as {{ dbt.type_bigint() }}) as device_count,
        cast(coalesce(links.linked_device_count, 0) as {{ dbt.type_bigint() }}) as linked_device_count,
        platforms.platforms,
        activity.first_seen_at,
        activity.last_seen_at,
        cast(activity.event_count as {{ dbt.type_bigint() }}) as event_count,
        cast(activity.session_count as {{ dbt.type_bigint() }}) as session_count,
        opt_outs.opted_out_at,
        opt_outs.opted_out_at is not null as has_opted_out
    from activity
    inner join platforms
        on activity.person_id = platforms.person_id
    left join opt_outs
        on activity.person_id = opt_outs.person_id
    left join links
        on activity.person_id = links.person_id

)

select * from final
