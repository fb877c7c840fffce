{% test unique_combination(model, columns) %}
    {#- Fails with every combination of `columns` that occurs more than once. -#}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}


{% test expression_is_true(model, expression) %}
    {#- Fails with every row where the expression is not true (false or null). -#}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
