{{ config(contract={'enforced': true}) }}

-- The schema changes as of the last build, as a table for BI (the live view
-- int_schema_changes reads the raw files, which only dbt's connection can).

with

schema_changes as (

    select * from {{ ref('int_schema_changes') }}

)

select * from schema_changes
