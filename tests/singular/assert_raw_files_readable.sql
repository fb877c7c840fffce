{{ config(
    tags=['raw_files'],
    severity=var('behavior__unreadable_files_severity'),
) }}

-- Fails (severity from behavior__unreadable_files_severity, default error)
-- with one row per raw events file that cannot be read at all, and names each
-- in the build's output. It tests the leaf fct_raw_file_reconciliation, so a
-- failure skips no model: every readable file is loaded, the build exits
-- non-zero and the scheduler sees it. Replace the file and build again.

{%- set built = load_relation(ref('fct_raw_file_reconciliation')) if execute else none %}
{%- if built is not none %}
    {%- set unreadable = run_query(
        "select file_name, file_error from " ~ built ~ " where status = 'unreadable' order by file_name"
    ) -%}
    {%- for row in unreadable.rows %}
        {%- do log("behavioral_analytics: unreadable raw file " ~ row[0] ~ ": " ~ row[1], info=true) -%}
    {%- endfor %}
{%- endif %}

with

reconciliation as (

    select * from {{ ref('fct_raw_file_reconciliation') }}

)

select
    reconciliation.file_name,
    reconciliation.file_error
from reconciliation
where reconciliation.status = 'unreadable'
