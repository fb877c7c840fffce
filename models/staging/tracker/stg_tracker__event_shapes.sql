{{ config(
    materialized='incremental',
    incremental_strategy=behavioral_analytics.incremental_strategy_by_key(),
    unique_key='file_name',
    on_schema_change='fail',
) }}

-- Files never change once received: each file's shapes are counted once,
-- when the file is loaded (staging computed each line's shape as it parsed it).

with

event_lines as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('base_tracker__event_lines') }}

),

shaped as (

    select
        -- lineage
        event_lines.file_name,
        event_lines.file_format,
        event_lines.line_number,
        coalesce(
            event_lines.received_date,
            cast({{ dbt.date_trunc('day', 'event_lines.received_at') }} as date)
        ) as received_date,

        -- event
        coalesce(event_lines.event_name, '(missing)') as event_name,

        -- shape: fields with their JSON types
        event_lines.field_signature,
        event_lines.properties_signature

    from event_lines
    where
        event_lines.field_signature is not null
        {% if is_incremental() -%}
            and event_lines.file_name not in (select loaded.file_name from {{ this }} as loaded)
        {%- endif %}

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
