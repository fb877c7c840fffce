{% macro regex_matches(text_column, pattern) %}
    {#- True when the whole text matches the pattern. -#}
    {{ return(adapter.dispatch('regex_matches', 'behavioral_analytics')(text_column, pattern)) }}
{% endmacro %}

{% macro default__regex_matches(text_column, pattern) -%}
    ({{ text_column }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}

{% macro duckdb__regex_matches(text_column, pattern) -%}
    regexp_full_match({{ text_column }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_matches(text_column, pattern) -%}
    ({{ text_column }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}


{% macro in_list(expression, values) -%}
    {#- `expression in ('a', 'b')` from a list var; false for an empty list. -#}
    {%- if values | length == 0 -%}
        (1 = 0)
    {%- else -%}
        {{ expression }} in ({% for value in values %}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
