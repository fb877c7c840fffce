{{ config(contract={'enforced': true}) }}

with

devices_stitched as (

    select * from {{ ref('int_devices_stitched') }}

),

devices_profiled as (

    select * from {{ ref('int_devices_profiled') }}

),

final as (

    select
        -- ids
        devices_stitched.device_id,
        case when not devices_stitched.is_user_id_device then devices_stitched.device_id end as anonymous_id,
        devices_stitched.person_id,
        devices_stitched.stitched_user_id,

        -- identity
        devices_stitched.is_shared,
        cast(devices_stitched.user_id_count as {{ dbt.type_int() }}) as user_id_count,

        -- non-human traffic
        devices_profiled.is_bot,
        devices_profiled.bot_reason,

        -- activity (events with analytics consent)
        cast(devices_profiled.event_count as {{ dbt.type_bigint() }}) as event_count,
        cast(devices_profiled.session_count as {{ dbt.type_bigint() }}) as session_count,
        devices_profiled.first_seen_at,
        devices_profiled.last_seen_at

    from devices_stitched
    inner join devices_profiled
        on devices_stitched.device_id = devices_profiled.device_id

)

select * from final
