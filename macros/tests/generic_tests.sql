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


{% test no_schema_drift(model, change_type) %}
    {#- Fails (or warns, by its severity) with every schema change of one
        type in fct_schema_drift, and logs each one in words: event, key,
        registered and observed JSON type, first day and file seen. -#}
    {%- if execute -%}
        {%- set found = run_query(
            "select event_name, field_path, expected_type, observed_type, first_seen_date,"
            ~ " first_file_name, file_count, line_count from " ~ model
            ~ " where change_type = '" ~ change_type ~ "' order by first_seen_date, event_name, field_path"
        ) -%}
        {%- for row in found.rows -%}
            {%- do log(
                "schema drift (" ~ change_type ~ "): event '" ~ row['event_name'] ~ "', key '" ~ row['field_path'] ~ "'"
                ~ (", type " ~ row['expected_type'] ~ " -> " ~ row['observed_type'] if change_type == 'type_change' else "")
                ~ (", type " ~ row['observed_type'] ~ " (not registered)" if change_type == 'new_key' else "")
                ~ (", registered as required " ~ row['expected_type'] ~ ", missing" if change_type == 'vanished_required_field' else "")
                ~ ", first seen " ~ row['first_seen_date'] ~ " in " ~ row['first_file_name']
                ~ " (" ~ row['line_count'] ~ " lines in " ~ row['file_count'] ~ " files)",
                info=true
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select *
    from {{ model }}
    where change_type = '{{ change_type }}'
{% endtest %}
