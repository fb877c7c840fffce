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


{% macro regex_contains(text_column, pattern_column) %}
    {#- True when the pattern (a column or literal, case-insensitive) is
        found anywhere in the text. -#}
    {{ return(adapter.dispatch('regex_contains', 'behavioral_analytics')(text_column, pattern_column)) }}
{% endmacro %}

{% macro default__regex_contains(text_column, pattern_column) -%}
    ({{ text_column }} ~* {{ pattern_column }})
{%- endmacro %}

{% macro duckdb__regex_contains(text_column, pattern_column) -%}
    regexp_matches(lower({{ text_column }}), lower({{ pattern_column }}))
{%- endmacro %}

{% macro spark__regex_contains(text_column, pattern_column) -%}
    (lower({{ text_column }}) rlike lower({{ pattern_column }}))
{%- endmacro %}


{% macro person_id_for_user(user_id) -%}
    {#- The person of an account: a deterministic hash of its user_id. -#}
    {{ dbt.hash(dbt.concat(["'user|'", user_id])) }}
{%- endmacro %}


{% macro sorted_listagg(expression, delimiter) %}
    {#- The group's values joined by the delimiter (a SQL literal), in ascending order. -#}
    {{ return(adapter.dispatch('sorted_listagg', 'behavioral_analytics')(expression, delimiter)) }}
{% endmacro %}

{% macro default__sorted_listagg(expression, delimiter) -%}
    {{ dbt.listagg(expression, delimiter, 'order by ' ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_listagg(expression, delimiter) -%}
    {#- dbt.listagg ignores the order on Spark: sort the collected list instead. -#}
    array_join(array_sort(collect_list({{ expression }})), {{ delimiter }})
{%- endmacro %}
