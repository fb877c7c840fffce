{#
    JSON access. Each engine spells it differently; models call only these.
    `path` is a list of keys, e.g. ['context', 'consent', 'analytics'].
#}

{% macro json_text(json_column, path) %}
    {{ return(adapter.dispatch('json_text', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_text(json_column, path) -%}
    ({{ json_column }}::jsonb #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_text(json_column, path) -%}
    json_extract_string({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{% macro spark__json_text(json_column, path) -%}
    get_json_object({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}


{% macro json_value(json_column, path) %}
    {#- The JSON value at `path`, as JSON (null when absent). -#}
    {{ return(adapter.dispatch('json_value', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_value(json_column, path) -%}
    ({{ json_column }}::jsonb #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_value(json_column, path) -%}
    json_extract({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}


{% macro json_type_of(json_column, path) %}
    {#- One of 'string', 'number', 'boolean', 'object', 'array', 'null', or
        null when the path is absent. -#}
    {{ return(adapter.dispatch('json_type_of', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_type_of(json_column, path) -%}
    jsonb_typeof({{ json_column }}::jsonb #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_type_of(json_column, path) -%}
    {#- DuckDB reports SQL type names; map them onto JSON's own. -#}
    case json_type({{ json_column }}, '$.{{ path | join('.') }}')
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'number'
        when 'UBIGINT' then 'number'
        when 'HUGEINT' then 'number'
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
        when 'NULL' then 'null'
    end
{%- endmacro %}


{% macro is_json_object(text_column) %}
    {#- True when the text parses as JSON and is an object. -#}
    {{ return(adapter.dispatch('is_json_object', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__is_json_object(text_column) -%}
    {#- PostgreSQL 16+: test the text without raising. -#}
    coalesce(pg_input_is_valid({{ text_column }}, 'jsonb')
        and jsonb_typeof({{ text_column }}::jsonb) = 'object', false)
{%- endmacro %}

{% macro duckdb__is_json_object(text_column) -%}
    {#- DuckDB evaluates both sides of `and`: only a case guards json_type. -#}
    case when json_valid({{ text_column }}) then json_type({{ text_column }}) = 'OBJECT' else false end
{%- endmacro %}


{% macro parse_json(text_column) %}
    {#- Text known to be valid JSON, as the engine's JSON type. -#}
    {{ return(adapter.dispatch('parse_json', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__parse_json(text_column) -%}
    cast({{ text_column }} as jsonb)
{%- endmacro %}

{% macro duckdb__parse_json(text_column) -%}
    cast({{ text_column }} as json)
{%- endmacro %}


{% macro json_object_at(json_column, key) %}
    {#- The object at `key`: a JSON object, or a JSON string holding one (as
        Parquet and CSV carry properties and context); else null. -#}
    case
        when {{ behavioral_analytics.json_type_of(json_column, [key]) }} = 'object'
            then {{ behavioral_analytics.json_value(json_column, [key]) }}
        when {{ behavioral_analytics.json_type_of(json_column, [key]) }} = 'string'
            and {{ behavioral_analytics.is_json_object(behavioral_analytics.json_text(json_column, [key])) }}
            then {{ behavioral_analytics.parse_json(behavioral_analytics.json_text(json_column, [key])) }}
    end
{% endmacro %}
