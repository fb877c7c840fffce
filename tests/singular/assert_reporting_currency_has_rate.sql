-- The reporting currency must be in the seed currency_rates, else no money
-- of any mart can be converted (every revenue would be null).

with

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

reporting_rate as (

    select count(*) as rate_rows
    from currency_rates
    where currency_rates.currency = '{{ var("behavior__reporting_currency") | upper }}'

)

select
    '{{ var("behavior__reporting_currency") | upper }}' as reporting_currency,
    reporting_rate.rate_rows
from reporting_rate
where reporting_rate.rate_rows <> 1
