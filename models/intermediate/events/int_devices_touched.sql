-- The state of the per-device increment of int_events_sessionized, built
-- before it: which devices it recomputes this run. It reads the sessions
-- table as built (its relation, not a ref: a ref would be a cycle); when
-- that table is built whole this run, every device is listed (full_build).

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
        built_signatures.signature as built_signature
    from current_signatures
    full outer join built_signatures
        on current_signatures.device_id = built_signatures.device_id

),

touched as (

    select
        compared.device_id,
        cast(compared.change_reason as {{ dbt.type_string() }}) as change_reason,
        cast(compared.current_row_count as {{ dbt.type_bigint() }}) as current_row_count,
        cast(compared.built_row_count as {{ dbt.type_bigint() }}) as built_row_count,
        cast(compared.current_signature as {{ dbt.type_string() }}) as current_signature,
        cast(compared.built_signature as {{ dbt.type_string() }}) as built_signature,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from compared
    where compared.change_reason is not null

)

select * from touched
