{% macro is_distinct_from(left, right) %}
    {#- True when two values differ, a null and a value included (null and
        null are not distinct): the SQL standard's IS DISTINCT FROM. -#}
    {{ return(adapter.dispatch('is_distinct_from', 'behavioral_analytics')(left, right)) }}
{% endmacro %}

{% macro default__is_distinct_from(left, right) -%}
    ({{ left }} is distinct from {{ right }})
{%- endmacro %}

{% macro spark__is_distinct_from(left, right) -%}
    (not ({{ left }} <=> {{ right }}))
{%- endmacro %}
