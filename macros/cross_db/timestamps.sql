{% macro try_parse_timestamp(text_column) %}
    {#- An ISO-8601 text as a UTC timestamp with time zone, or null when it
        does not parse. A text without offset is read as UTC. -#}
    {{ return(adapter.dispatch('try_parse_timestamp', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__try_parse_timestamp(text_column) -%}
    {#- PostgreSQL 16+: check before casting, as a failed cast raises. -#}
    case when pg_input_is_valid({{ text_column }}, 'timestamptz')
        then cast({{ text_column }} as timestamptz) end
{%- endmacro %}

{% macro postgres__try_parse_timestamp(text_column) -%}
    {#- PostgreSQL 15 has no pg_input_is_valid, and reads 'yesterday': the hook's ISO-only try_timestamptz. -#}
    behavior_functions.try_timestamptz({{ text_column }})
{%- endmacro %}

{% macro duckdb__try_parse_timestamp(text_column) -%}
    try_cast({{ text_column }} as timestamptz)
{%- endmacro %}

{% macro spark__try_parse_timestamp(text_column) -%}
    {#- Spark's try_to_timestamp also reads 'yesterday' and 'now': ISO-8601 text only, as on DuckDB. -#}
    case when {{ text_column }} rlike '^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?\s*$'
        then try_to_timestamp({{ text_column }}) end
{%- endmacro %}


{% macro utc_offset_minutes(text_column) %}
    {#- The UTC offset written in an ISO-8601 text, in minutes ('Z' is 0;
        null when the text carries no offset). -#}
    {{ return(adapter.dispatch('utc_offset_minutes', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__utc_offset_minutes(text_column) -%}
    case
        when {{ text_column }} ~ '[zZ]$' then 0
        when {{ text_column }} ~ '[T ][0-9:.]+[+-][0-9]{2}:?[0-9]{2}$' then
            (case when substring({{ text_column }} from '([+-])[0-9]{2}:?[0-9]{2}$') = '-' then -1 else 1 end)
            * (cast(substring({{ text_column }} from '([0-9]{2}):?[0-9]{2}$') as integer) * 60
                + cast(right({{ text_column }}, 2) as integer))
    end
{%- endmacro %}

{% macro spark__utc_offset_minutes(text_column) -%}
    {#- Spark has no `~` nor `substring from`: rlike and regexp_extract. -#}
    case
        when {{ text_column }} rlike '[zZ]$' then 0
        when {{ text_column }} rlike '[T ][0-9:.]+[+-][0-9]{2}:?[0-9]{2}$' then
            (case when regexp_extract({{ text_column }}, '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' then -1 else 1 end)
            * (cast(regexp_extract({{ text_column }}, '([0-9]{2}):?[0-9]{2}$', 1) as int) * 60
                + cast(right({{ text_column }}, 2) as int))
    end
{%- endmacro %}

{% macro duckdb__utc_offset_minutes(text_column) -%}
    {#- 'Z', the usual ending, without a regular expression -#}
    case
        when ends_with({{ text_column }}, 'Z') or ends_with({{ text_column }}, 'z') then 0
        when regexp_matches({{ text_column }}, '[T ][0-9:.]+[+-][0-9]{2}:?[0-9]{2}$') then
            (case when regexp_extract({{ text_column }}, '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' then -1 else 1 end)
            * (cast(regexp_extract({{ text_column }}, '([0-9]{2}):?[0-9]{2}$', 1) as integer) * 60
                + cast(right({{ text_column }}, 2) as integer))
    end
{%- endmacro %}


{% macro epoch_microseconds(timestamp_column) %}
    {#- Microseconds since 1970-01-01 UTC, as a bigint: exact gap arithmetic. -#}
    {{ return(adapter.dispatch('epoch_microseconds', 'behavioral_analytics')(timestamp_column)) }}
{% endmacro %}

{% macro default__epoch_microseconds(timestamp_column) -%}
    cast(round(extract(epoch from {{ timestamp_column }}) * 1000000) as bigint)
{%- endmacro %}

{% macro duckdb__epoch_microseconds(timestamp_column) -%}
    epoch_us({{ timestamp_column }})
{%- endmacro %}

{% macro spark__epoch_microseconds(timestamp_column) -%}
    unix_micros({{ timestamp_column }})
{%- endmacro %}


{% macro derive_event_at(event_ts, sent_at, received_at) %}
    {#- The contract's event time: received_at - (sent_at - event_ts) when
        sent_at is present (corrects device clock skew), else event_ts. -#}
    {{ return(adapter.dispatch('derive_event_at', 'behavioral_analytics')(event_ts, sent_at, received_at)) }}
{% endmacro %}

{% macro default__derive_event_at(event_ts, sent_at, received_at) -%}
    case
        when {{ sent_at }} is null then {{ event_ts }}
        else {{ received_at }} - ({{ sent_at }} - {{ event_ts }})
    end
{%- endmacro %}

{% macro spark__derive_event_at(event_ts, sent_at, received_at) -%}
    {#- Spark cannot subtract timestamps into an interval: go through microseconds. -#}
    case
        when {{ sent_at }} is null then {{ event_ts }}
        else timestamp_micros(unix_micros({{ received_at }}) - (unix_micros({{ sent_at }}) - unix_micros({{ event_ts }})))
    end
{%- endmacro %}


{% macro type_timestamp_tz() %}
    {#- An instant in time (what event_at and friends are). -#}
    {{ return(adapter.dispatch('type_timestamp_tz', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_timestamp_tz() -%}
    {#- Spark's timestamp is already an instant (session time zone for display). -#}
    timestamp
{%- endmacro %}


{% macro type_double() %}
    {#- An 8-byte float: dbt.type_float() is a 4-byte FLOAT on DuckDB. -#}
    {{ return(adapter.dispatch('type_double', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}


{% macro run_started_at_timestamp() -%}
    {#- When this dbt invocation started (UTC), as a timestamp: marks the rows a
        run wrote, so the next model's increment knows where to start. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{% macro timestamp_text(timestamp_column) %}
    {#- An instant as text in UTC, as DuckDB and PostgreSQL (session in UTC) write it: 2026-01-05 10:00:00.123+00. -#}
    {{ return(adapter.dispatch('timestamp_text', 'behavioral_analytics')(timestamp_column)) }}
{% endmacro %}

{% macro default__timestamp_text(timestamp_column) -%}
    cast({{ timestamp_column }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__timestamp_text(timestamp_column) -%}
    {#- Spark's timestamp text has no offset (the session's zone, UTC here): add it. -#}
    concat(cast({{ timestamp_column }} as string), '+00')
{%- endmacro %}
