{#
    How staging reads a raw row. A JSONL line is JSON text and is parsed. On
    DuckDB, a Parquet or CSV row comes typed (duckdb__typed_row_values in
    create_raw_event_relations.sql): staging takes its fields, properties,
    context and shape from the typed columns, never renders a good row to
    JSON text to parse it again, and renders a bad row only, for the
    quarantine. Engines that load the files as lines (`behavior load`:
    PostgreSQL, Spark) parse every line: the defaults.
#}

{% macro typed_row_flag(relation) %}
    {#- True for a row that comes typed (a Parquet or CSV row on DuckDB). -#}
    {{ return(adapter.dispatch('typed_row_flag', 'behavioral_analytics')(relation)) }}
{% endmacro %}

{% macro default__typed_row_flag(relation) -%}
    (1 = 0)
{%- endmacro %}

{% macro duckdb__typed_row_flag(relation) -%}
    {#- A typed row always has a shape; a JSONL line has none yet. -#}
    ({{ relation }}.row_field_signature is not null)
{%- endmacro %}


{% macro typed_row_columns(relation, structs_only=false) %}
    {#- The raw relation's typed columns carried on (each followed by a
        comma); with structs_only, the rows kept to render a bad one. -#}
    {{ return(adapter.dispatch('typed_row_columns', 'behavioral_analytics')(relation, structs_only)) }}
{% endmacro %}

{% macro default__typed_row_columns(relation, structs_only) %}
{% endmacro %}

{% macro duckdb__typed_row_columns(relation, structs_only) -%}
    {%- for column in behavioral_analytics.duckdb__typed_row_column_names()
        if not structs_only or column in ['parquet_row', 'csv_row'] %}
        {{ relation }}.{{ column }},
    {%- endfor %}
{%- endmacro %}


{% macro typed_row_value(relation, column, json_expression) %}
    {#- A typed row's `column`, else json_expression (read from the parsed
        text; null for a typed row, which has none). -#}
    {{ return(adapter.dispatch('typed_row_value', 'behavioral_analytics')(relation, column, json_expression)) }}
{% endmacro %}

{% macro default__typed_row_value(relation, column, json_expression) -%}
    {{ json_expression }}
{%- endmacro %}

{% macro duckdb__typed_row_value(relation, column, json_expression) -%}
    {#- A coalesce, not a case on is_typed_row: a typed row has no text, so
        its JSON expression is null (and cheap); a JSONL line has no typed
        column. The case made staging's JSONL lines about 10 % slower
        (DuckDB evaluates each JSON branch on a selection). -#}
    coalesce({{ relation }}.{{ column }}, {{ json_expression }})
{%- endmacro %}


{% macro bad_line_text(relation) %}
    {#- The raw text kept for a bad line: the line as read, or a typed row
        rendered as JSON text (the same text as the raw relation event_lines
        and `behavior load` give it). Called for bad lines only. -#}
    {{ return(adapter.dispatch('bad_line_text', 'behavioral_analytics')(relation)) }}
{% endmacro %}

{% macro default__bad_line_text(relation) -%}
    {{ relation }}.raw_line
{%- endmacro %}

{% macro duckdb__bad_line_text(relation) -%}
    case
        when {{ relation }}.parquet_row is not null
            then {{ behavioral_analytics.duckdb__rendered_row('parquet', relation ~ '.parquet_row') }}
        when {{ relation }}.csv_row is not null
            then {{ behavioral_analytics.duckdb__rendered_row('csv', relation ~ '.csv_row') }}
        else {{ relation }}.raw_line
    end
{%- endmacro %}
