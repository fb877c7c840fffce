{%- set mode = var('behavior__stitching_mode') -%}
{%- if mode not in ['contract', 'latest_user'] -%}
    {{ exceptions.raise_compiler_error(
        "behavior__stitching_mode must be 'contract' or 'latest_user', got '" ~ mode ~ "'"
    ) }}
{%- endif -%}

-- Identity is analysis: only events with analytics consent take part.

with

stg_tracker__events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

consented_events as {{ behavioral_analytics.inlined_cte() }} (

    select * from stg_tracker__events
    where has_analytics_consent

),

identified_events as (

    select
        consented_events.device_id,
        consented_events.user_id,
        consented_events.event_at,
        consented_events.event_id,
        row_number() over (
            partition by consented_events.device_id
            order by consented_events.event_at desc, consented_events.event_id desc
        ) as recency
    from consented_events
    where consented_events.user_id is not null

),

user_ids_per_device as (

    select
        identified_events.device_id,
        count(distinct identified_events.user_id) as user_id_count,
        min(identified_events.user_id) as any_user_id
    from identified_events
    group by 1

),

latest_user_ids as (

    select
        identified_events.device_id,
        identified_events.user_id as latest_user_id
    from identified_events
    where identified_events.recency = 1

),

devices as (

    select distinct
        consented_events.device_id,
        consented_events.anonymous_id is null as is_user_id_device
    from consented_events

),

stitched as (

    select
        devices.device_id,
        devices.is_user_id_device,
        coalesce(user_ids_per_device.user_id_count, 0) as user_id_count,
        coalesce(user_ids_per_device.user_id_count, 0) >= 2 as is_shared,
        latest_user_ids.latest_user_id,
        {% if mode == 'latest_user' -%}
            -- compatibility: the latest user_id seen on the device, for all its events
            latest_user_ids.latest_user_id as stitched_user_id
        {%- else -%}
            -- the contract: the single user_id seen on the device; none when shared
            case
                when user_ids_per_device.user_id_count = 1 then user_ids_per_device.any_user_id
            end as stitched_user_id
        {%- endif %}
    from devices
    left join user_ids_per_device
        on devices.device_id = user_ids_per_device.device_id
    left join latest_user_ids
        on devices.device_id = latest_user_ids.device_id

),

final as (

    select
        stitched.*,
        -- a person is an account; a device nobody identified on is its own
        -- anonymous person; a shared device's anonymous events have none
        case
            when stitched.stitched_user_id is not null
                then {{ behavioral_analytics.person_id_for_user('stitched.stitched_user_id') }}
            when stitched.user_id_count = 0
                then {{ dbt.hash(dbt.concat(["'device|'", 'stitched.device_id'])) }}
        end as person_id
    from stitched

)

select * from final
