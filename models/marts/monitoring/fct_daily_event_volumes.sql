{{ config(contract={'enforced': true}) }}

{%- set baseline_days = var('behavior__volume_baseline_days') -%}

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

daily as (

    select
        cast({{ dbt.date_trunc('day', 'events.received_at') }} as date) as received_date,
        events.event_name,
        count(*) as event_count
    from events
    group by 1, 2

),

-- a day that received anything is a day every known event name is expected
-- on: a name that stops arriving shows as 0, not as a missing row
received_days as (

    select distinct daily.received_date
    from daily

),

event_names as (

    select
        daily.event_name,
        min(daily.received_date) as first_received_date
    from daily
    group by 1

),

grid as (

    select
        received_days.received_date,
        event_names.event_name
    from received_days
    cross join event_names
    where received_days.received_date >= event_names.first_received_date

),

filled as (

    select
        grid.received_date,
        grid.event_name,
        coalesce(daily.event_count, 0) as event_count
    from grid
    left join daily
        on
            grid.received_date = daily.received_date
            and grid.event_name = daily.event_name

),

baselined as (

    select
        filled.*,
        avg(filled.event_count) over trailing_days as baseline_mean,
        stddev_samp(filled.event_count) over trailing_days as baseline_stddev,
        count(*) over trailing_days as baseline_days,
        max(filled.received_date) over () as latest_received_date
    from filled
    window trailing_days as (
        partition by filled.event_name
        order by filled.received_date
        rows between {{ baseline_days }} preceding and 1 preceding
    )

),

flagged as (

    select
        baselined.received_date,
        baselined.event_name,
        cast(baselined.event_count as {{ dbt.type_bigint() }}) as event_count,
        cast(baselined.baseline_mean as {{ behavioral_analytics.type_double() }}) as baseline_mean,
        cast(baselined.baseline_stddev as {{ behavioral_analytics.type_double() }}) as baseline_stddev,
        cast(baselined.baseline_days as {{ dbt.type_int() }}) as baseline_days,
        cast(
            case
                when baselined.baseline_mean > 0
                    then (baselined.event_count - baselined.baseline_mean) / baselined.baseline_mean
            end as {{ behavioral_analytics.type_double() }}
        ) as deviation_ratio,
        -- the latest day is still arriving: it is reported, not judged
        baselined.received_date = baselined.latest_received_date as is_partial_day,
        coalesce(
            baselined.received_date < baselined.latest_received_date
            and baselined.baseline_days >= {{ var('behavior__volume_min_baseline_days') }}
            and baselined.baseline_mean >= {{ var('behavior__volume_min_baseline_events') }}
            and abs(baselined.event_count - baselined.baseline_mean)
            > {{ var('behavior__volume_anomaly_threshold') }} * baselined.baseline_mean,
            false
        ) as is_anomaly
    from baselined

)

select * from flagged
