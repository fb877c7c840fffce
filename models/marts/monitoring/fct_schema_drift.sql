{{ config(contract={'enforced': true}) }}

-- The schema changes as of the last build, as a table for BI (the live view
-- int_schema_changes reads the raw files, which only dbt's connection can).

with

schema_changes as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_schema_changes') }}

),

final as (

    select
        schema_changes.drift_id,
        schema_changes.event_name,
        schema_changes.field_path,
        schema_changes.change_type,
        schema_changes.severity,
        schema_changes.expected_type,
        schema_changes.observed_type,
        schema_changes.first_seen_date,
        schema_changes.last_seen_date,
        schema_changes.first_file_name,
        schema_changes.file_count,
        schema_changes.line_count
    from schema_changes

)

select * from final
