{#- The reporting calendar of the behavioural marts: local time in
    `behavior__reporting_timezone`, weeks starting on `behavior__week_start`,
    medians and date series. See docs/definitions.md. -#}

{% macro reporting_timezone() -%}
    {%- set timezone = var('behavior__reporting_timezone') -%}
    {%- if not (timezone is string and timezone | length > 0 and "'" not in timezone) -%}
        {{ exceptions.raise_compiler_error("behavior__reporting_timezone must be an IANA time zone name such as 'UTC' or 'Asia/Shanghai', got " ~ timezone) }}
    {%- endif -%}
    {{ return(timezone) }}
{%- endmacro %}


{% macro week_start_offset() -%}
    {#- Days from Monday to the configured first day of the week (0..6). -#}
    {%- set days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] -%}
    {%- set week_start = var('behavior__week_start') | string | lower -%}
    {%- if week_start not in days -%}
        {{ exceptions.raise_compiler_error("behavior__week_start must be one of " ~ days | join(', ') ~ ", got '" ~ week_start ~ "'") }}
    {%- endif -%}
    {{ return(days.index(week_start)) }}
{%- endmacro %}


{% macro to_reporting_time(timestamp_column) %}
    {#- An instant as wall-clock time in the reporting time zone (a timestamp
        without zone). -#}
    {{ return(adapter.dispatch('to_reporting_time', 'behavioral_analytics')(timestamp_column)) }}
{% endmacro %}

{% macro default__to_reporting_time(timestamp_column) -%}
    cast(({{ timestamp_column }} at time zone '{{ behavioral_analytics.reporting_timezone() }}') as timestamp)
{%- endmacro %}

{% macro spark__to_reporting_time(timestamp_column) -%}
    {#- Spark has no AT TIME ZONE; from_utc_timestamp shifts an instant to local time. -#}
    from_utc_timestamp({{ timestamp_column }}, '{{ behavioral_analytics.reporting_timezone() }}')
{%- endmacro %}


{% macro period_start(period_unit, date_column) -%}
    {#- First day of the day, week or month holding a date (weeks start on
        behavior__week_start: shift by the offset, truncate to the ISO week,
        shift back). -#}
    {%- if period_unit == 'day' -%}
        cast({{ date_column }} as date)
    {%- elif period_unit == 'week' -%}
        {%- set offset = behavioral_analytics.week_start_offset() -%}
        {%- if offset == 0 -%}
            cast({{ dbt.date_trunc('week', date_column) }} as date)
        {%- else -%}
            cast({{ dbt.dateadd('day', offset, dbt.date_trunc('week', dbt.dateadd('day', -offset, date_column))) }} as date)
        {%- endif -%}
    {%- elif period_unit == 'month' -%}
        cast({{ dbt.date_trunc('month', date_column) }} as date)
    {%- else -%}
        {{ exceptions.raise_compiler_error("period_start: unit must be day, week or month, got " ~ period_unit) }}
    {%- endif -%}
{%- endmacro %}


{% macro period_add(period_unit, periods, date_column) -%}
    {#- A period start moved by a number of periods (a column or literal). -#}
    {%- if period_unit == 'week' -%}
        cast({{ dbt.dateadd('day', '7 * (' ~ periods ~ ')', date_column) }} as date)
    {%- else -%}
        cast({{ dbt.dateadd(period_unit, periods, date_column) }} as date)
    {%- endif -%}
{%- endmacro %}


{% macro periods_between(period_unit, start_date, end_date) -%}
    {#- Whole periods from one period start to another (both starts). -#}
    {%- if period_unit == 'week' -%}
        cast({{ dbt.datediff(start_date, end_date, 'day') }} / 7 as {{ dbt.type_int() }})
    {%- else -%}
        cast({{ dbt.datediff(start_date, end_date, period_unit) }} as {{ dbt.type_int() }})
    {%- endif -%}
{%- endmacro %}


{% macro median(expression) %}
    {#- The median (mean of the middle two for an even count), nulls ignored. -#}
    {{ return(adapter.dispatch('median', 'behavioral_analytics')(expression)) }}
{% endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    {#- DuckDB's median is percentile_cont(0.5) and faster to write. -#}
    median({{ expression }})
{%- endmacro %}

{% macro spark__median(expression) -%}
    {#- Spark's exact percentile (percentile_cont is 3.3+ and not in every runtime). -#}
    percentile({{ expression }}, 0.5)
{%- endmacro %}


{% macro date_series(start_date, end_date) %}
    {#- A query of one row per date from start_date to end_date, both
        included, in a column `date_day` (empty when end < start). The
        arguments are SQL expressions (scalar subqueries allowed). -#}
    {{ return(adapter.dispatch('date_series', 'behavioral_analytics')(start_date, end_date)) }}
{% endmacro %}

{% macro default__date_series(start_date, end_date) -%}
    select cast(series.date_day as date) as date_day
    from generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day'
    ) as series (date_day)
{%- endmacro %}

{% macro duckdb__date_series(start_date, end_date) -%}
    {#- DuckDB's generate_series is a table function with a column `generate_series`. -#}
    select cast(generate_series as date) as date_day
    from generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)
{%- endmacro %}

{% macro spark__date_series(start_date, end_date) -%}
    {#- Spark has no generate_series: explode a sequence of dates. -#}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date_day
{%- endmacro %}


{% macro convert_currency(amount, currency, rate_column, reporting_rate_column) -%}
    {#- An amount in the reporting currency with rates in units per EUR
        (seed currency_rates); null when the currency has no rate. -#}
    case when {{ rate_column }} > 0 and {{ reporting_rate_column }} > 0
        then {{ amount }} / {{ rate_column }} * {{ reporting_rate_column }} end
{%- endmacro %}
