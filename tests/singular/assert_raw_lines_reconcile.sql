-- Every line read is accounted for exactly once: the lines of all files add
-- up to the staged events + duplicates + quarantined lines, and no file or
-- line of the raw relation is missing from the reconciliation.

with

event_lines as (

    select * from {{ ref('base_tracker__event_lines') }}

),

reconciliation as (

    select * from {{ ref('fct_raw_file_reconciliation') }}

),

totals as (

    select
        (select count(*) from event_lines) as lines_read,
        (select coalesce(sum(reconciliation.lines_read), 0) from reconciliation) as lines_reconciled,
        (
            select
                coalesce(
                    sum(reconciliation.events_staged + reconciliation.duplicates + reconciliation.lines_quarantined), 0
                )
            from reconciliation
        ) as lines_accounted,
        (select count(*) from {{ ref('stg_tracker__events') }})
        + (select count(*) from {{ ref('stg_tracker__event_duplicates') }})
        + (select count(*) from {{ ref('stg_tracker__events_quarantine') }}) as lines_in_outputs

)

select * from totals
where lines_read != lines_reconciled
    or lines_read != lines_accounted
    or lines_read != lines_in_outputs
