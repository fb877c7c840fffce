{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_name',
    on_schema_change='fail',
) }}

-- Files never change once received: each file's shapes are read once, when
-- the file is loaded.

with

source as (

    select * from {{ source('tracker', 'event_lines_pending') }}

),

objects as (

    select
        source.file_name,
        source.file_format,
        source.received_date,
        source.line_number,
        case
            when {{ behavioral_analytics.is_json_object('source.raw_line') }} then source.raw_line
        end as object_text
    from source

),

shaped as (

    select
        -- lineage
        objects.file_name,
        objects.file_format,
        objects.line_number,
        coalesce(
            objects.received_date,
            cast({{ dbt.date_trunc('day', behavioral_analytics.try_parse_timestamp(
                behavioral_analytics.json_text('objects.object_text', ['received_at'])
            )) }} as date)
        ) as received_date,

        -- event
        coalesce(
            nullif(trim({{ behavioral_analytics.json_text('objects.object_text', ['event_name']) }}), ''),
            '(missing)'
        ) as event_name,

        -- shape: fields with their JSON types
        {{ behavioral_analytics.json_signature('objects.object_text') }} as field_signature,
        {{ behavioral_analytics.json_signature(
            behavioral_analytics.json_object_at('objects.object_text', 'properties')
        ) }} as properties_signature

    from objects
    where objects.object_text is not null

),

-- lines with the same shape are kept once, with their count
grouped as (

    select
        shaped.file_name,
        shaped.file_format,
        shaped.received_date,
        shaped.event_name,
        shaped.field_signature,
        shaped.properties_signature,
        count(*) as line_count,
        min(shaped.line_number) as first_line_number
    from shaped
    group by 1, 2, 3, 4, 5, 6

)

select * from grouped
