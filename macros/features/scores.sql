{% macro score_quintile(at_or_below, group_size) -%}
    {#- A 1-5 score: ceil(5 k / n), k = rows at or below this one (ties
        included, i.e. n x cume_dist), n = rows of the group; computed in
        integers, (5 k + n - 1) / n floored, so no float rounding moves a
        boundary. -#}
    cast(floor((5 * {{ at_or_below }} + {{ group_size }} - 1) * 1.0 / {{ group_size }}) as {{ dbt.type_int() }})
{%- endmacro %}
