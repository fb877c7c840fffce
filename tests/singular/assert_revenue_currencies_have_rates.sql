{{ config(severity='warn', tags=['money']) }}

-- Names every currency whose revenue cannot be converted to
-- behavior__reporting_currency (no rate in the seed currency_rates, or no
-- currency at all), with how many events and how much revenue in that
-- currency the marts leave out. Add the rate to the seed to include them.

with

events as (

    select * from {{ ref('fct_events') }}

),

unconverted as (

    select
        coalesce(events.currency, '(none)') as currency,
        count(*) as events_excluded,
        sum(events.revenue) as revenue_excluded_in_that_currency
    from events
    where events.revenue is not null
        and events.revenue_in_reporting_currency is null
    group by coalesce(events.currency, '(none)')

)

select * from unconverted
