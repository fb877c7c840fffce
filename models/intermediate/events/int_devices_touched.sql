-- The state of the per-device increment of int_events_sessionized, built
-- before it: which devices it recomputes this run, and from where. It reads
-- the sessions table as built (its relation, not a ref: a ref would be a
-- cycle); when that table is built whole this run, every device is listed
-- (full_build).
--
-- A changed device is recomputed from the activity block before its first
-- difference, not whole: sessions follow gaps between consecutive events,
-- so every event before the first row that differs keeps its session, and
-- a block's first event stays one (its previous event did not change). A
-- day of new events touches a device's last block, not its whole history.

{%- set sessions = behavioral_analytics.device_increment_built_relation('int_events_sessionized') -%}
-- a device is recomputed when any of these columns of its analysed events changed
{%- set signature_columns = ['event_id', 'event_at', 'received_at', 'person_id', 'person_user_id', 'event_name'] %}

with

events_attributed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

-- the input of int_events_sessionized: the analysed events
analysed_events as (

    select * from events_attributed
    where is_analysed

),

current_signatures as (

    select
        analysed_events.device_id,
        count(*) as row_count,
        {{ behavioral_analytics.signature_agg(signature_columns, 'analysed_events') }} as signature
    from analysed_events
    group by analysed_events.device_id

),

-- the same signature of the rows int_events_sessionized holds; none when it
-- is built whole this run (first build, --full-refresh, Spark)
built_signatures as (

    {{ behavioral_analytics.built_signatures(sessions, signature_columns, 'current_signatures') }}

),

-- the rows of the changed devices, now and as built, side by side by event
changed_devices as (

    select current_signatures.device_id
    from current_signatures
    inner join built_signatures
        on current_signatures.device_id = built_signatures.device_id
    where
        current_signatures.row_count != built_signatures.row_count
        or current_signatures.signature != built_signatures.signature

),

changed_current_rows as (

    select
        analysed_events.device_id,
        analysed_events.event_id,
        analysed_events.event_at,
        analysed_events.received_at,
        analysed_events.person_id,
        analysed_events.person_user_id,
        analysed_events.event_name
    from analysed_events
    where analysed_events.device_id in (select changed_devices.device_id from changed_devices)

),

-- none when the sessions table is built whole this run
changed_built_rows as (

    {% if sessions is none -%}
        select
            changed_current_rows.*,
            cast(null as {{ dbt.type_bigint() }}) as session_index,
            cast(null as {{ dbt.type_boolean() }}) as starts_activity_block
        from changed_current_rows
        where 1 = 0
    {%- else -%}
        select
            built.device_id,
            built.event_id,
            built.event_at,
            built.received_at,
            built.person_id,
            built.person_user_id,
            built.event_name,
            built.session_index,
            built.starts_activity_block
        from {{ sessions }} as built
        where built.device_id in (select changed_devices.device_id from changed_devices)
    {%- endif %}

),

-- a row that is new, gone, or not the same, at the earlier of its two times
differing_rows as (

    select
        coalesce(current_rows.device_id, built_rows.device_id) as device_id,
        case
            when current_rows.event_at is null then built_rows.event_at
            when built_rows.event_at is null then current_rows.event_at
            when built_rows.event_at < current_rows.event_at then built_rows.event_at
            else current_rows.event_at
        end as difference_at
    from changed_current_rows as current_rows
    full outer join changed_built_rows as built_rows
        on
            current_rows.device_id = built_rows.device_id
            and current_rows.event_id = built_rows.event_id
    where
        current_rows.event_id is null
        or built_rows.event_id is null
        {%- for column in signature_columns if column != 'event_id' %}
            or {{ behavioral_analytics.is_distinct_from('current_rows.' ~ column, 'built_rows.' ~ column) }}
        {%- endfor %}

),

first_differences as (

    select
        differing_rows.device_id,
        min(differing_rows.difference_at) as first_difference_at
    from differing_rows
    group by differing_rows.device_id

),

-- the built activity blocks that start before the first difference (every
-- row before it is the same now): the device is recomputed from the last
block_starts_before as (

    select
        changed_built_rows.device_id,
        changed_built_rows.event_at,
        changed_built_rows.event_id,
        changed_built_rows.session_index
    from changed_built_rows
    inner join first_differences
        on changed_built_rows.device_id = first_differences.device_id
    where
        changed_built_rows.starts_activity_block
        and changed_built_rows.event_at < first_differences.first_difference_at

),

last_block_times as (

    select
        block_starts_before.device_id,
        max(block_starts_before.event_at) as recompute_from_at
    from block_starts_before
    group by block_starts_before.device_id

),

-- in the contract's order (event_at, then event_id), the last of them
recompute_from as (

    select
        block_starts_before.device_id,
        block_starts_before.event_at as recompute_from_at,
        max(block_starts_before.event_id) as recompute_from_event_id,
        max(block_starts_before.session_index) - 1 as kept_session_count
    from block_starts_before
    inner join last_block_times
        on
            block_starts_before.device_id = last_block_times.device_id
            and block_starts_before.event_at = last_block_times.recompute_from_at
    group by block_starts_before.device_id, block_starts_before.event_at

),

compared as (

    select
        coalesce(current_signatures.device_id, built_signatures.device_id) as device_id,
        {% if sessions is none -%}
            'full_build'
        {%- else -%}
            case
                when built_signatures.device_id is null then 'new'
                when current_signatures.device_id is null then 'removed'
                when current_signatures.row_count != built_signatures.row_count
                    or current_signatures.signature != built_signatures.signature
                    then 'changed'
            end
        {%- endif %} as change_reason,
        coalesce(current_signatures.row_count, 0) as current_row_count,
        -- not read on a full build
        {% if sessions is none -%}
            cast(null as {{ dbt.type_bigint() }})
        {%- else -%}
            coalesce(built_signatures.row_count, 0)
        {%- endif %} as built_row_count,
        current_signatures.signature as current_signature,
        built_signatures.signature as built_signature,
        recompute_from.recompute_from_at,
        recompute_from.recompute_from_event_id,
        coalesce(recompute_from.kept_session_count, 0) as kept_session_count
    from current_signatures
    full outer join built_signatures
        on current_signatures.device_id = built_signatures.device_id
    left join recompute_from
        on coalesce(current_signatures.device_id, built_signatures.device_id) = recompute_from.device_id

),

touched as (

    select
        compared.device_id,
        cast(compared.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(compared.current_row_count as {{ dbt.type_bigint() }}) as current_row_count,
        cast(compared.built_row_count as {{ dbt.type_bigint() }}) as built_row_count,
        cast(compared.current_signature as {{ dbt.type_string() }}) as current_signature,
        cast(compared.built_signature as {{ dbt.type_string() }}) as built_signature,
        cast(compared.recompute_from_at as {{ behavioral_analytics.type_timestamp_tz() }}) as recompute_from_at,
        cast(compared.recompute_from_event_id as {{ dbt.type_string() }}) as recompute_from_event_id,
        cast(compared.kept_session_count as {{ dbt.type_bigint() }}) as kept_session_count,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from compared
    where compared.change_reason is not null

)

select * from touched
