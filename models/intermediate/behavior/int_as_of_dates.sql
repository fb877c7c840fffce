{%- set as_of = var('behavior__as_of_date') -%}
{%- set snapshot_weeks = var('behavior__feature_snapshot_weeks') | int -%}
{%- set churn_horizon_days = var('behavior__churn_horizon_days') | int -%}
{%- if as_of and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
    {{ exceptions.raise_compiler_error("behavior__as_of_date must be a date written YYYY-MM-DD (or null for the day after the last event), got '" ~ as_of ~ "'") }}
{%- endif -%}
{%- if churn_horizon_days < 1 -%}
    {{ exceptions.raise_compiler_error("behavior__churn_horizon_days must be 1 or more, got " ~ churn_horizon_days) }}
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
-- the day after the last event date in the reporting time zone), the
-- weekly snapshots before it (behavior__feature_snapshot_weeks) and the two
-- churn training snapshots, one and two horizons earlier
-- (behavior__churn_horizon_days): the churn model trains on features as of
-- T - H with labels from [T - H, T), and is validated on T - 2H -> T - H.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('fct_events') }}

),

current_as_of as (

    select {{ as_of_sql }} as as_of_date
    {%- if not as_of %}
        from events
        where events.person_id is not null
    {%- endif %}

),

snapshot_offsets as (

    {% for snapshot_number in range(snapshot_weeks + 1) -%}
        select
            {{ snapshot_number }} as snapshot_number,
            {{ 7 * snapshot_number }} as days_before,
            '{{ "current" if snapshot_number == 0 else "weekly" }}' as snapshot_kind
        union all
    {% endfor -%}
    select
        -1 as snapshot_number,
        {{ churn_horizon_days }} as days_before,
        'churn_training' as snapshot_kind
    union all
    select
        -2 as snapshot_number,
        {{ 2 * churn_horizon_days }} as days_before,
        'churn_validation' as snapshot_kind

),

-- a date that is both weekly and a churn snapshot is kept once, as weekly
deduplicated as (

    select
        snapshot_offsets.*,
        row_number() over (
            partition by snapshot_offsets.days_before
            order by case when snapshot_offsets.snapshot_number >= 0 then 0 else 1 end
        ) as offset_rank
    from snapshot_offsets

),

as_of_dates as (

    select
        cast({{ dbt.dateadd('day', '-1 * deduplicated.days_before', 'current_as_of.as_of_date') }} as date)
            as as_of_date,
        cast(deduplicated.snapshot_number as {{ dbt.type_int() }}) as snapshot_number,
        deduplicated.snapshot_kind,
        deduplicated.snapshot_number = 0 as is_current
    from current_as_of
    cross join deduplicated
    where current_as_of.as_of_date is not null
        and deduplicated.offset_rank = 1

)

select * from as_of_dates
