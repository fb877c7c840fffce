{{ config(contract={'enforced': true}) }}

{%- set conversion_events = var('behavior__conversion_events') -%}

-- One row per n (2 and 3) x path: runs of n consecutive events within a
-- person session (names joined by ' > ', repeats kept), how often they
-- occur, in how many sessions and for how many persons, and the most
-- common paths that end in a conversion event.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

ordered as (

    select
        events.person_id,
        events.session_id,
        events.event_name,
        lag(events.event_name, 1) over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
        ) as previous_event_name,
        lag(events.event_name, 2) over (
            partition by events.person_id, events.session_id
            order by events.event_at, events.event_id
        ) as event_name_two_back
    from events

),

-- each event ends a run of 2 and a run of 3 when it has that many events
-- before it in its session: one row per length, so `ordered` is read once
-- (read twice, DuckDB writes it whole and scans it back)
lengths as (

    select 2 as n
    union all
    select 3 as n

),

windows as (

    select
        lengths.n,
        case
            when lengths.n = 2
                then {{ dbt.concat(['ordered.previous_event_name', "' > '", 'ordered.event_name']) }}  -- noqa: LT05
            else
                {{ dbt.concat(['ordered.event_name_two_back', "' > '", 'ordered.previous_event_name', "' > '", 'ordered.event_name']) }}  -- noqa: LT05
        end as path,  -- noqa: RF04
        ordered.event_name as last_event_name,
        ordered.person_id,
        ordered.session_id
    from ordered
    cross join lengths
    where
        (lengths.n = 2 and ordered.previous_event_name is not null)
        or (lengths.n = 3 and ordered.event_name_two_back is not null)

),

counted as (

    select
        windows.n,
        windows.path,
        {{ behavioral_analytics.in_list('windows.last_event_name', conversion_events) }} as ends_in_conversion,
        count(*) as occurrences,
        count(distinct windows.session_id) as session_count,
        count(distinct windows.person_id) as person_count
    from windows
    group by windows.n, windows.path, windows.last_event_name

),

ranked as (

    select
        cast(counted.n as {{ dbt.type_int() }}) as n,
        counted.path,
        cast(counted.occurrences as {{ dbt.type_bigint() }}) as occurrences,
        cast(counted.session_count as {{ dbt.type_bigint() }}) as session_count,
        cast(counted.person_count as {{ dbt.type_bigint() }}) as person_count,
        counted.ends_in_conversion,
        cast(
            row_number() over (partition by counted.n order by counted.occurrences desc, counted.path asc)
            as {{ dbt.type_bigint() }}
        ) as occurrence_rank,
        cast(
            case when counted.ends_in_conversion
                    then row_number() over (
                            partition by counted.n, counted.ends_in_conversion
                            order by counted.occurrences desc, counted.path asc
                        )
            end
            as {{ dbt.type_bigint() }}
        ) as conversion_path_rank
    from counted

)

select * from ranked
