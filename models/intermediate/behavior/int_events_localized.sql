{%- set active_events = var('behavior__active_events') -%}
{%- set purchase_events = var('behavior__purchase_events') -%}
{%- set page_view_events = var('behavior__page_view_events') -%}

-- One row per event of a person (fct_events with a person_id) before the
-- as-of moment, in the reporting calendar: local time, day, week and month,
-- whether it is active, a purchase, a page view with its page, and the
-- feature it used. Every behavioural mart reads its events here.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('fct_events') }}

),

as_of_dates as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_as_of_dates') }}

),

current_as_of as (

    select as_of_dates.as_of_date
    from as_of_dates
    where as_of_dates.is_current

),

localized as (

    select
        events.*,
        {{ behavioral_analytics.to_reporting_time('events.event_at') }} as event_local_at
    from events
    where events.person_id is not null

),

before_as_of as (

    select localized.*
    from localized
    inner join current_as_of
        on localized.event_local_at < cast(current_as_of.as_of_date as {{ dbt.type_timestamp() }})

),

classified as (

    select
        -- ids
        before_as_of.event_id,
        before_as_of.person_id,
        before_as_of.session_id,
        before_as_of.device_id,
        before_as_of.user_id,

        -- event
        before_as_of.event_name,
        before_as_of.platform,
        before_as_of.event_at,
        before_as_of.event_local_at,
        cast(before_as_of.event_local_at as date) as event_local_date,
        {{ behavioral_analytics.period_start('week', 'cast(before_as_of.event_local_at as date)') }} as week_start_date,
        {{ behavioral_analytics.period_start('month', 'cast(before_as_of.event_local_at as date)') }}
            as month_start_date,

        -- what it counts as
        {% if active_events | length == 0 -%}
            true
        {%- else -%}
            {{ behavioral_analytics.in_list('before_as_of.event_name', active_events) }}
        {%- endif %} as is_active,
        {{ behavioral_analytics.in_list('before_as_of.event_name', purchase_events) }} as is_purchase,
        {{ behavioral_analytics.in_list('before_as_of.event_name', page_view_events) }}
        and coalesce(before_as_of.page_path, before_as_of.screen_name) is not null as is_page_view,
        case
            when {{ behavioral_analytics.in_list('before_as_of.event_name', page_view_events) }}
                then coalesce(before_as_of.page_path, before_as_of.screen_name)
        end as page,
        {{ behavioral_analytics.json_text('before_as_of.properties', ['feature']) }} as feature,

        -- money
        before_as_of.order_id,
        before_as_of.revenue_in_reporting_currency

    from before_as_of

)

select * from classified
