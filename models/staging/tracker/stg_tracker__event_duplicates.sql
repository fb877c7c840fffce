with

event_lines as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('base_tracker__event_lines') }}

),

-- every valid copy of an event after the first received one
later_copies as (

    select
        event_lines.file_name,
        event_lines.line_number,
        event_lines.event_id,
        event_lines.received_at,
        event_lines.copy_number
    from event_lines
    where event_lines.is_valid and event_lines.copy_number > 1

)

select * from later_copies
