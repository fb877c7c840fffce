{{ config(materialized='table') }}

-- Rebuilt each run from the hook's probe: an unreadable file is never loaded,
-- so it is pending (and probed) on every run until it is replaced.

with

unreadable_files as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ source('tracker', 'unreadable_files') }}

),

renamed as (

    select
        unreadable_files.file_name,
        unreadable_files.file_path,
        unreadable_files.file_format,
        unreadable_files.received_date,
        cast(unreadable_files.file_size_bytes as {{ dbt.type_bigint() }}) as file_size_bytes,
        unreadable_files.file_error
    from unreadable_files

)

select * from renamed
