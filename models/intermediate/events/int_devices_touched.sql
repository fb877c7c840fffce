-- The state of the per-device increment of int_events_sessionized, built
-- before it: which devices it recomputes this run, and from where. It reads
-- the sessions table as built (its relation, not a ref: a ref would be a
-- cycle); when that table is built whole this run, every device is listed
-- (full_build).
--
-- A changed device is recomputed from the activity block before its first
-- difference, not whole: sessions follow gaps between consecutive events,
-- so every event before the first row that differs keeps its session, and
-- a block's first event stays one (its previous event did not change). The
-- first difference is found per day (the start of the first day whose
-- signature differs), by the same aggregation that gives the device's
-- signature. A day of new events touches a device's last block, not its
-- whole history.

{%- set sessions = behavioral_analytics.device_increment_built_relation('int_events_sessionized') -%}
-- a device is recomputed when any of these columns of its analysed events changed
{%- set signature_columns = ['event_id', 'event_at', 'received_at', 'person_id', 'person_user_id', 'event_name'] %}

with

events_attributed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

-- the input of int_events_sessionized: the analysed events
analysed_events as {{ behavioral_analytics.inlined_cte() }} (

    select * from events_attributed
    where is_analysed

),

-- the signature of each device's analysed events per day, now
current_days as (

    {{ behavioral_analytics.device_day_signatures('analysed_events', signature_columns) }}

),

current_signatures as (

    {{ behavioral_analytics.device_signatures_from_days('current_days') }}

),

-- the same of the rows int_events_sessionized holds; none when it is built
-- whole this run (first build, --full-refresh, Spark)
built_days as (

    {{ behavioral_analytics.device_day_signatures(sessions, signature_columns, empty_like='current_days') }}

),

built_signatures as (

    {{ behavioral_analytics.device_signatures_from_days('built_days') }}

),

-- where each device changed first: the start of its first day that differs
first_differences as (

    {{ behavioral_analytics.first_changed_days('current_days', 'built_days') }}

),

-- the built activity blocks that start before it (every row before it is
-- the same now): a changed device is recomputed from the last
block_starts_before as (

    {% if sessions is none -%}
        select
            first_differences.device_id,
            first_differences.first_difference_at as event_at,
            cast(null as {{ dbt.type_string() }}) as event_id,
            cast(null as {{ dbt.type_bigint() }}) as session_index
        from first_differences
        where 1 = 0
    {%- else -%}
        select
            built.device_id,
            built.event_at,
            built.event_id,
            built.session_index
        from {{ sessions }} as built
        inner join first_differences
            on built.device_id = first_differences.device_id
        where
            built.starts_activity_block
            and built.event_at < first_differences.first_difference_at
    {%- endif %}

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
    -- a changed device's starting point (a new or a removed one is whole)
    left join recompute_from
        on
            current_signatures.device_id = recompute_from.device_id
            and built_signatures.device_id = recompute_from.device_id

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
