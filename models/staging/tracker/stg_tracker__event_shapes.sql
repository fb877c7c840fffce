-- A view on purpose: the schema-drift tests read the files as they are now,
-- even when `dbt test` runs without a rebuild.

with

source as (

    select * from {{ source('tracker', 'event_lines') }}

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

)

select * from shaped
