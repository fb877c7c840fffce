{%- set window_us = var('behavior__link_window_days') * 86400 * 1000000 -%}
{%- set max_devices_per_ip = var('behavior__link_max_devices_per_ip') -%}
{%- set max_devices_per_network = var('behavior__link_max_devices_per_network') -%}
{%- set weights = var('behavior__link_evidence_weights') -%}
{%- set min_score = var('behavior__link_min_score') -%}
{%- set max_concurrent = var('behavior__link_max_concurrent_sessions') -%}

-- Probabilistic linking: a device nobody ever identified on is linked to a
-- known person from circumstantial evidence. The link lives in its own
-- columns; the deterministic person_id is never changed by it.

with

events_sessionized as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_sessionized') }}

),

devices_stitched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_stitched') }}

),

devices_profiled as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_profiled') }}

),

user_agents_parsed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_user_agents_parsed') }}

),

-- where and when each device was seen
device_addresses as (

    select
        events_sessionized.device_id,
        events_sessionized.ip_hash,
        events_sessionized.ip_network,
        min({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}) as first_seen_us,
        max({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}) as last_seen_us
    from events_sessionized
    where events_sessionized.ip_hash is not null
    group by 1, 2, 3

),

-- an address many devices use (an office, a carrier's NAT) is no household
address_crowds as (

    select
        device_addresses.ip_hash,
        count(distinct device_addresses.device_id) as device_count
    from device_addresses
    group by 1

),

-- one person uses one device at a time: sessions that overlap in time on a
-- candidate and on a person's device count against the link
session_spans as (

    select
        events_sessionized.device_id,
        events_sessionized.session_id,
        min({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}) as started_us,
        max({{ behavioral_analytics.epoch_microseconds('events_sessionized.event_at') }}) as ended_us
    from events_sessionized
    group by 1, 2

),

-- a network hundreds of devices use (a carrier, a campus) is no evidence
-- either, and would pair every device on it with every other
network_crowds as (

    select
        device_addresses.ip_network,
        count(distinct device_addresses.device_id) as device_count
    from device_addresses
    group by 1

),

usable_addresses as (

    select device_addresses.*
    from device_addresses
    inner join network_crowds
        on device_addresses.ip_network = network_crowds.ip_network
    where network_crowds.device_count <= {{ max_devices_per_network }}

),

device_traits as (

    select
        events_sessionized.device_id,
        max(events_sessionized.locale) as locale,
        max(user_agents_parsed.user_agent_family) as user_agent_family
    from events_sessionized
    left join user_agents_parsed
        on events_sessionized.user_agent = user_agents_parsed.user_agent
    group by 1

),

devices as (

    select
        devices_stitched.device_id,
        devices_stitched.person_id,
        devices_stitched.stitched_user_id,
        devices_stitched.user_id_count,
        devices_profiled.is_bot
    from devices_stitched
    inner join devices_profiled
        on devices_stitched.device_id = devices_profiled.device_id

),

-- candidates: human devices nobody identified on
candidates as (

    select
        usable_addresses.*,
        device_traits.locale,
        device_traits.user_agent_family
    from usable_addresses
    inner join devices
        on usable_addresses.device_id = devices.device_id
    inner join device_traits
        on usable_addresses.device_id = device_traits.device_id
    where devices.user_id_count = 0 and not devices.is_bot

),

-- anchors: human devices that belong to one known person
anchors as (

    select
        usable_addresses.*,
        devices.person_id,
        devices.stitched_user_id,
        device_traits.locale,
        device_traits.user_agent_family
    from usable_addresses
    inner join devices
        on usable_addresses.device_id = devices.device_id
    inner join device_traits
        on usable_addresses.device_id = device_traits.device_id
    where devices.user_id_count = 1 and devices.stitched_user_id is not null and not devices.is_bot

),

-- a candidate and an anchor on the same network within the window
pairs as (

    select
        candidates.device_id,
        anchors.person_id,
        anchors.stitched_user_id,
        case
            when candidates.ip_hash = anchors.ip_hash
                and address_crowds.device_count <= {{ max_devices_per_ip }}
                then candidates.ip_hash
        end as shared_ip_hash,
        case when candidates.locale = anchors.locale then 1 else 0 end as shares_locale,
        case when candidates.user_agent_family = anchors.user_agent_family then 1 else 0 end
            as shares_user_agent_family
    from candidates
    inner join anchors
        on candidates.ip_network = anchors.ip_network
            and candidates.first_seen_us <= anchors.last_seen_us + {{ window_us }}
            and anchors.first_seen_us <= candidates.last_seen_us + {{ window_us }}
    inner join address_crowds
        on candidates.ip_hash = address_crowds.ip_hash

),

candidate_pairs as (

    select distinct
        pairs.device_id,
        pairs.person_id
    from pairs

),

concurrency as (

    select
        candidate_pairs.device_id,
        candidate_pairs.person_id,
        count(distinct candidate_spans.session_id) as concurrent_sessions
    from candidate_pairs
    inner join session_spans as candidate_spans
        on candidate_pairs.device_id = candidate_spans.device_id
    inner join devices as person_devices
        on candidate_pairs.person_id = person_devices.person_id
    inner join session_spans as person_spans
        on person_devices.device_id = person_spans.device_id
            and candidate_spans.started_us <= person_spans.ended_us
            and candidate_spans.ended_us >= person_spans.started_us
    where person_devices.device_id in (select anchors.device_id from anchors)
    group by 1, 2

),

evidence as (

    select
        pairs.device_id,
        pairs.person_id,
        max(pairs.stitched_user_id) as linked_user_id,
        count(distinct pairs.shared_ip_hash) as shared_ip_count,
        true as shares_ip_network,
        max(pairs.shares_locale) = 1 as shares_locale,
        max(pairs.shares_user_agent_family) = 1 as shares_user_agent_family
    from pairs
    group by 1, 2

),

evidence_with_conflicts as (

    select
        evidence.*,
        coalesce(concurrency.concurrent_sessions, 0) as concurrent_sessions
    from evidence
    left join concurrency
        on evidence.device_id = concurrency.device_id
            and evidence.person_id = concurrency.person_id

),

strengths as (

    select
        evidence_with_conflicts.*,
        case when evidence_with_conflicts.concurrent_sessions > {{ max_concurrent }} then 0 else 1 end
        * least(
            1.0,
            case
                when evidence_with_conflicts.shared_ip_count >= 1 then {{ weights.exact_ip }}
                else {{ weights.ip_network }}
            end
            + case
                when evidence_with_conflicts.shared_ip_count >= 2 then {{ weights.second_exact_ip }}
                else 0
            end
            + case when evidence_with_conflicts.shares_locale then {{ weights.locale }} else 0 end
            + case
                when evidence_with_conflicts.shares_user_agent_family then {{ weights.user_agent_family }}
                else 0
            end
        ) as link_strength
    from evidence_with_conflicts

),

-- two persons behind the same evidence share it
scored as (

    select
        strengths.*,
        count(*) over (partition by strengths.device_id) as link_candidate_count,
        strengths.link_strength
        * strengths.link_strength
        / nullif(sum(strengths.link_strength) over (partition by strengths.device_id), 0) as link_score,
        row_number() over (
            partition by strengths.device_id
            order by strengths.link_strength desc, strengths.person_id asc
        ) as candidate_rank
    from strengths

),

final as (

    select
        scored.device_id,
        scored.person_id as linked_person_id,
        scored.linked_user_id,
        cast(round(coalesce(scored.link_score, 0), 4) as {{ behavioral_analytics.type_double() }}) as link_score,
        round(coalesce(scored.link_score, 0), 4) >= {{ min_score }} as is_linked,
        cast(scored.link_candidate_count as {{ dbt.type_int() }}) as link_candidate_count,
        scored.shared_ip_count >= 1 as link_shares_exact_ip,
        cast(scored.shared_ip_count as {{ dbt.type_int() }}) as link_shared_ip_count,
        scored.shares_ip_network as link_shares_ip_network,
        scored.shares_locale as link_shares_locale,
        scored.shares_user_agent_family as link_shares_user_agent_family,
        cast(scored.concurrent_sessions as {{ dbt.type_int() }}) as link_concurrent_sessions
    from scored
    where scored.candidate_rank = 1

)

select * from final
