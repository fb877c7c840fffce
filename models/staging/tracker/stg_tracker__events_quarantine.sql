{{ config(materialized='table') }}

with

event_lines as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('base_tracker__event_lines') }}

),

bad_lines as (

    select
        event_lines.file_name,
        event_lines.line_number,
        event_lines.file_path,
        event_lines.file_format,
        event_lines.received_date,
        event_lines.reason,
        event_lines.reason_detail,
        event_lines.raw_line,
        -- what could be read of it, to help find the sender
        event_lines.event_id,
        event_lines.event_name,
        event_lines.platform
    from event_lines
    where not event_lines.is_valid

)

select * from bad_lines
