{{ config(materialized='view') }}

{%- set min_lines = var('behavior__schema_drift_min_lines') -%}
{%- set min_share = var('behavior__schema_drift_min_share') -%}

-- A view, like its inputs: it describes the files as they are when it is
-- queried, so `dbt test --select tag:schema_drift` needs no rebuild.

with

fields_observed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_event_fields_observed') }}

),

event_schema_registry as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('event_schema_registry') }}

),

-- the registration that applies: the event's own, else the contract's `*`
registered as (

    select
        fields_observed.*,
        coalesce(event_registration.json_type, contract_registration.json_type) as registered_type
    from fields_observed
    left join event_schema_registry as event_registration
        on
            fields_observed.event_name = event_registration.event_name
            and fields_observed.field_path = event_registration.field_path
    left join event_schema_registry as contract_registration
        on
            contract_registration.event_name = '*'
            and fields_observed.field_path = contract_registration.field_path

),

-- an unregistered key is compared with the first type it arrived with
first_types as (

    select
        registered.event_name,
        registered.field_path,
        min(registered.json_type) as first_type
    from registered
    where
        registered.registered_type is null
        and registered.json_type not in ('null', 'text')
        and registered.received_date = (
            select min(earliest.received_date)
            from registered as earliest
            where
                earliest.event_name = registered.event_name
                and earliest.field_path = registered.field_path
                and earliest.json_type not in ('null', 'text')
        )
    group by 1, 2

),

new_keys as (

    select
        registered.event_name,
        registered.field_path,
        'new_key' as change_type,
        cast(null as {{ dbt.type_string() }}) as expected_type,
        registered.json_type as observed_type,
        registered.file_name,
        registered.received_date,
        registered.line_count
    from registered
    where
        registered.registered_type is null
        and registered.json_type != 'null'
        and registered.line_count >= {{ min_lines }}
        and registered.line_count >= {{ min_share }} * registered.reference_lines

),

-- a change counts when it is systematic in a file, not a stray bad line
type_changes as (

    select
        registered.event_name,
        registered.field_path,
        'type_change' as change_type,
        coalesce(registered.registered_type, first_types.first_type) as expected_type,
        registered.json_type as observed_type,
        registered.file_name,
        registered.received_date,
        registered.line_count
    from registered
    left join first_types
        on
            registered.event_name = first_types.event_name
            and registered.field_path = first_types.field_path
    where
        registered.json_type not in ('null', 'text')
        and registered.json_type != coalesce(registered.registered_type, first_types.first_type)
        and registered.line_count >= {{ min_lines }}
        and registered.line_count >= {{ min_share }} * registered.reference_lines

),

file_event_names as (

    select distinct
        fields_observed.file_name,
        fields_observed.received_date,
        fields_observed.event_name,
        fields_observed.event_name_lines,
        fields_observed.reference_lines
    from fields_observed

),

required_fields as (

    select
        file_event_names.*,
        event_schema_registry.field_path,
        event_schema_registry.json_type as expected_type
    from file_event_names
    inner join event_schema_registry
        on event_schema_registry.event_name in (file_event_names.event_name, '*')
    where event_schema_registry.is_required

),

present as (

    select
        fields_observed.file_name,
        fields_observed.event_name,
        fields_observed.field_path,
        sum(fields_observed.line_count) as present_lines
    from fields_observed
    where fields_observed.json_type != 'null'
    group by 1, 2, 3

),

-- a required field missing from a systematic share of an event's lines
vanished as (

    select
        required_fields.event_name,
        required_fields.field_path,
        'vanished_required_field' as change_type,
        required_fields.expected_type,
        cast(null as {{ dbt.type_string() }}) as observed_type,
        required_fields.file_name,
        required_fields.received_date,
        required_fields.event_name_lines - coalesce(present.present_lines, 0) as line_count
    from required_fields
    left join present
        on
            required_fields.file_name = present.file_name
            and required_fields.event_name = present.event_name
            and required_fields.field_path = present.field_path
    where
        required_fields.event_name_lines - coalesce(present.present_lines, 0) >= {{ min_lines }}
        and required_fields.event_name_lines - coalesce(present.present_lines, 0)
        >= {{ min_share }} * required_fields.reference_lines

),

changes as (

    select * from new_keys
    union all
    select * from type_changes
    union all
    select * from vanished

),

summarized as (

    select
        changes.event_name,
        changes.field_path,
        changes.change_type,
        changes.expected_type,
        changes.observed_type,
        min(changes.received_date) as first_seen_date,
        max(changes.received_date) as last_seen_date,
        min(changes.file_name) as first_file_name,
        count(distinct changes.file_name) as file_count,
        sum(changes.line_count) as line_count
    from changes
    group by 1, 2, 3, 4, 5

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            'summarized.event_name', "'|'", 'summarized.field_path', "'|'", 'summarized.change_type',
            "'|'", "coalesce(summarized.observed_type, '')"
        ])) }} as drift_id,
        summarized.event_name,
        summarized.field_path,
        summarized.change_type,
        case when summarized.change_type = 'new_key' then 'warn' else 'error' end as severity,
        summarized.expected_type,
        summarized.observed_type,
        summarized.first_seen_date,
        summarized.last_seen_date,
        summarized.first_file_name,
        cast(summarized.file_count as {{ dbt.type_bigint() }}) as file_count,
        cast(summarized.line_count as {{ dbt.type_bigint() }}) as line_count
    from summarized

)

select * from final
