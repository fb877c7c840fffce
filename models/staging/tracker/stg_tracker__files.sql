{{ config(materialized='table') }}

-- Rebuilt each run from the on-run-start hook's file list: the load state of
-- this run. A table, not a view of the raw table the hook replaces on every
-- invocation (`dbt test` too), so it keeps what the build found.

with

event_files as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ source('tracker', 'event_files') }}

),

renamed as (

    select
        -- ids
        cast(event_files.file_name as {{ dbt.type_string() }}) as file_name,
        cast(event_files.file_path as {{ dbt.type_string() }}) as file_path,

        -- properties
        cast(event_files.file_format as {{ dbt.type_string() }}) as file_format,
        cast(event_files.load_status as {{ dbt.type_string() }}) as load_status,

        -- dates
        event_files.received_date
    from event_files

)

select * from renamed
