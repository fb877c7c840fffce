{{ config(contract={'enforced': true}) }}

with

event_lines as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('base_tracker__event_lines') }}

),

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

event_duplicates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__event_duplicates') }}

),

events_quarantine as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events_quarantine') }}

),

files_quarantine as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__files_quarantine') }}

),

lines_read as (

    select
        event_lines.file_name,
        min(event_lines.file_format) as file_format,
        min(event_lines.received_date) as received_date,
        count(*) as lines_read
    from event_lines
    group by event_lines.file_name

),

staged as (

    select
        events.file_name,
        count(*) as events_staged
    from events
    group by events.file_name

),

duplicated as (

    select
        event_duplicates.file_name,
        count(*) as duplicates
    from event_duplicates
    group by event_duplicates.file_name

),

quarantined as (

    select
        events_quarantine.file_name,
        count(*) as lines_quarantined
    from events_quarantine
    group by events_quarantine.file_name

),

reconciled as (

    select
        lines_read.file_name,
        lines_read.file_format,
        lines_read.received_date,
        cast(lines_read.lines_read as {{ dbt.type_bigint() }}) as lines_read,
        cast(coalesce(staged.events_staged, 0) as {{ dbt.type_bigint() }}) as events_staged,
        cast(coalesce(duplicated.duplicates, 0) as {{ dbt.type_bigint() }}) as duplicates,
        cast(coalesce(quarantined.lines_quarantined, 0) as {{ dbt.type_bigint() }}) as lines_quarantined,
        cast(
            lines_read.lines_read
            - coalesce(staged.events_staged, 0)
            - coalesce(duplicated.duplicates, 0)
            - coalesce(quarantined.lines_quarantined, 0)
            as {{ dbt.type_bigint() }}
        ) as lines_lost,
        cast('loaded' as {{ dbt.type_string() }}) as status,
        cast(null as {{ dbt.type_string() }}) as file_error
    from lines_read
    left join staged
        on lines_read.file_name = staged.file_name
    left join duplicated
        on lines_read.file_name = duplicated.file_name
    left join quarantined
        on lines_read.file_name = quarantined.file_name

),

-- a file that cannot be read at all: no line read, its own row
unreadable as (

    select
        files_quarantine.file_name,
        files_quarantine.file_format,
        files_quarantine.received_date,
        {% for column in ['lines_read', 'events_staged', 'duplicates', 'lines_quarantined', 'lines_lost'] -%}
            cast(0 as {{ dbt.type_bigint() }}) as {{ column }},
        {% endfor -%}
        cast('unreadable' as {{ dbt.type_string() }}) as status,
        files_quarantine.file_error
    from files_quarantine
    where files_quarantine.file_name not in (select lines_read.file_name from lines_read)

),

files as (

    select * from reconciled
    union all
    select * from unreadable

)

select * from files
