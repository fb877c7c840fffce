{%- set as_of = var('behavior__as_of_date') -%}
{%- set snapshot_weeks = var('behavior__feature_snapshot_weeks') | int -%}
{%- if as_of and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
    {{ exceptions.raise_compiler_error("behavior__as_of_date must be a date written YYYY-MM-DD (or null for the day after the last event), got '" ~ as_of ~ "'") }}
{%- endif -%}
{%- if snapshot_weeks < 0 -%}
    {{ exceptions.raise_compiler_error("behavior__feature_snapshot_weeks must be 0 or more, got " ~ snapshot_weeks) }}
{%- endif -%}
{%- if as_of -%}
    {%- set as_of_sql = "cast('" ~ as_of ~ "' as date)" -%}
{%- else -%}
    {%- set last_local_event = 'max(' ~ behavioral_analytics.to_reporting_time('events.event_at') ~ ')' -%}
    {%- set as_of_sql = 'cast(' ~ dbt.dateadd('day', 1, last_local_event) ~ ' as date)' -%}
{%- endif %}

-- The as-of dates of this build: the as-of date (behavior__as_of_date, else
-- the day after the last event date in the reporting time zone) and the
-- weekly snapshots before it (behavior__feature_snapshot_weeks).

with

events as (

    select * from {{ ref('fct_events') }}

),

current_as_of as (

    select {{ as_of_sql }} as as_of_date
    {%- if not as_of %}
        from events
        where events.person_id is not null
    {%- endif %}

),

snapshot_numbers as (

    {% for snapshot_number in range(snapshot_weeks + 1) -%}
        select {{ snapshot_number }} as snapshot_number
        {%- if not loop.last %} union all {% endif %}
    {% endfor %}

),

as_of_dates as (

    select
        cast({{ dbt.dateadd('day', '-7 * snapshot_numbers.snapshot_number', 'current_as_of.as_of_date') }} as date)
            as as_of_date,
        cast(snapshot_numbers.snapshot_number as {{ dbt.type_int() }}) as snapshot_number,
        snapshot_numbers.snapshot_number = 0 as is_current
    from current_as_of
    cross join snapshot_numbers
    where current_as_of.as_of_date is not null

)

select * from as_of_dates
