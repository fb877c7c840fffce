-- The state of the per-device increment of int_events_attributed, built
-- before it: which devices it recomputes this run, and from which day. It
-- reads the attributed events as built (their relation, not a ref: a ref
-- would be a cycle); when that table is built whole this run, every device
-- is listed (full_build).
--
-- An event's attribution is its own row's: a device is recomputed from the
-- first day (UTC, of event_at) whose rows differ now from as built; every
-- row before it is the same. A row differs when the event is new or gone,
-- another copy of it became the first received (file, line, load), it got
-- another duplicate, or its person, account or the person's opt-out moved
-- (a new identification, a stitching change, a late event without consent).

{%- set attributed_events = behavioral_analytics.device_increment_built_relation('int_events_attributed') -%}
-- a row of int_events_attributed is recomputed when any of these changed (its
-- other columns are the staged line's, or follow from these)
{%- set signature_columns = [
    'event_id', 'event_at', 'received_at', 'file_name', 'line_number', 'duplicates_received', '_loaded_at',
    'person_id', 'person_user_id', 'person_opted_out_at',
] %}

with

stg_tracker__events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

devices_stitched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_stitched') }}

),

-- int_events_attributed's rows now, in the columns compared (its own rule)
attributed as {{ behavioral_analytics.inlined_cte() }} (

    {{ behavioral_analytics.attributed_events('stg_tracker__events', 'devices_stitched') }}

),

opt_outs as (

    {{ behavioral_analytics.person_opt_outs('attributed') }}

),

current_rows as (

    select
        attributed.device_id,
        {% for column in signature_columns if column != 'person_opted_out_at' -%}
            attributed.{{ column }},
        {% endfor -%}
        opt_outs.opted_out_at as person_opted_out_at
    from attributed
    left join opt_outs
        on attributed.person_id = opt_outs.person_id

),

-- the signature of each device's rows per day, now and as built
current_days as (

    {{ behavioral_analytics.device_day_signatures('current_rows', signature_columns) }}

),

-- none when the table is built whole this run (first build, --full-refresh,
-- Spark)
built_days as (

    {{ behavioral_analytics.device_day_signatures(attributed_events, signature_columns, empty_like='current_days') }}

),

-- where each device changed first: the start of its first day that differs
first_differences as (

    {{ behavioral_analytics.first_changed_days('current_days', 'built_days') }}

),

current_devices as (

    {{ behavioral_analytics.device_signatures_from_days('current_days') }}

),

built_devices as (

    {{ behavioral_analytics.device_signatures_from_days('built_days') }}

),

touched as (

    {% if attributed_events is none -%}
        -- built whole this run: every device, whole; nothing is compared
        select
            stg_tracker__events.device_id,
            'full_build' as change_reason,
            cast(null as {{ behavioral_analytics.type_timestamp_tz() }}) as recompute_from_at,
            count(*) as current_row_count,
            cast(null as {{ dbt.type_bigint() }}) as built_row_count
        from stg_tracker__events
        group by stg_tracker__events.device_id
    {%- else -%}
        select
            first_differences.device_id,
            case
                when built_devices.device_id is null then 'new'
                when current_devices.device_id is null then 'removed'
                else 'changed'
            end as change_reason,
            first_differences.first_difference_at as recompute_from_at,
            coalesce(current_devices.row_count, 0) as current_row_count,
            coalesce(built_devices.row_count, 0) as built_row_count
        from first_differences
        left join current_devices
            on first_differences.device_id = current_devices.device_id
        left join built_devices
            on first_differences.device_id = built_devices.device_id
    {%- endif %}

),

final as (

    select
        touched.device_id,
        cast(touched.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(touched.recompute_from_at as {{ behavioral_analytics.type_timestamp_tz() }}) as recompute_from_at,
        cast(touched.current_row_count as {{ dbt.type_bigint() }}) as current_row_count,
        cast(touched.built_row_count as {{ dbt.type_bigint() }}) as built_row_count,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from touched

)

select * from final
