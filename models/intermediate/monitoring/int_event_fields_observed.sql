{{ config(materialized='view') }}

-- The shape of what arrived: per raw file, event name, field and JSON type,
-- how many lines carried it. Bad lines that are JSON objects count too: a
-- required field that vanished makes bad lines, and is drift all the same.

with

event_shapes as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__event_shapes') }}

),

-- lines with the same shape are read once
shapes as (

    select
        event_shapes.file_name,
        event_shapes.file_format,
        event_shapes.received_date,
        event_shapes.event_name,
        event_shapes.field_signature,
        event_shapes.properties_signature,
        sum(event_shapes.line_count) as line_count
    from event_shapes
    group by 1, 2, 3, 4, 5, 6

),

top_level_fields as (

    {{ behavioral_analytics.json_signature_fields(
        'shapes', 'field_signature', '',
        ['file_name', 'file_format', 'received_date', 'event_name', 'line_count', 'properties_signature']
    ) }}

),

property_fields as (

    {{ behavioral_analytics.json_signature_fields(
        'shapes', 'properties_signature', 'properties.',
        ['file_name', 'file_format', 'received_date', 'event_name', 'line_count']
    ) }}

),

fields as (

    select
        top_level_fields.file_name,
        top_level_fields.file_format,
        top_level_fields.received_date,
        top_level_fields.event_name,
        top_level_fields.field_path,
        -- Parquet and CSV carry properties and context as JSON strings
        case
            when top_level_fields.field_path = 'properties'
                and top_level_fields.json_type = 'string'
                and top_level_fields.properties_signature is not null
                then 'object'
            when top_level_fields.field_path = 'context'
                and top_level_fields.json_type = 'string'
                and top_level_fields.file_format in ('parquet', 'csv')
                then 'object'
            -- CSV columns are untyped text: no JSON type to compare
            when top_level_fields.file_format = 'csv' and top_level_fields.json_type = 'string'
                then 'text'
            else top_level_fields.json_type
        end as json_type,
        top_level_fields.line_count
    from top_level_fields

    union all

    select
        property_fields.file_name,
        property_fields.file_format,
        property_fields.received_date,
        property_fields.event_name,
        property_fields.field_path,
        property_fields.json_type,
        property_fields.line_count
    from property_fields

),

observed as (

    select
        fields.file_name,
        fields.received_date,
        fields.event_name,
        fields.field_path,
        fields.json_type,
        sum(fields.line_count) as line_count
    from fields
    group by 1, 2, 3, 4, 5

),

lines_per_file as (

    select
        shapes.file_name,
        sum(shapes.line_count) as file_lines
    from shapes
    group by 1

),

-- a line without a valid event name is measured against the whole file:
-- a few such bad lines are noise, a file of them is drift
lines_per_event_name as (

    select
        shapes.file_name,
        shapes.event_name,
        sum(shapes.line_count) as event_name_lines,
        case
            when shapes.event_name = '(missing)'
                or not {{ behavioral_analytics.regex_matches('shapes.event_name', '[a-z][a-z0-9_]*') }}
                then min(lines_per_file.file_lines)
            else sum(shapes.line_count)
        end as reference_lines
    from shapes
    inner join lines_per_file
        on shapes.file_name = lines_per_file.file_name
    group by 1, 2

),

final as (

    select
        observed.file_name,
        observed.received_date,
        observed.event_name,
        observed.field_path,
        observed.json_type,
        observed.line_count,
        lines_per_event_name.event_name_lines,
        lines_per_event_name.reference_lines
    from observed
    inner join lines_per_event_name
        on
            observed.file_name = lines_per_event_name.file_name
            and observed.event_name = lines_per_event_name.event_name

)

select * from final
