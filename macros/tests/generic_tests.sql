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
        type in int_schema_changes, and logs each one in words: event, key,
        registered and observed JSON type, first day and file seen. The view
        is read once: the failing rows are returned as literals. -#}
    {%- set found = [] -%}
    {#- Compiling before a build (dbt docs generate) finds no view: no rows. -#}
    {%- if execute and load_relation(model) is not none -%}
        {%- set result = run_query(
            "select event_name, field_path, expected_type, observed_type, first_seen_date,"
            ~ " first_file_name, file_count, line_count from " ~ model
            ~ " where change_type = '" ~ change_type ~ "' order by first_seen_date, event_name, field_path"
        ) -%}
        {%- for row in result.rows -%}
            {%- do found.append(row) -%}
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
    {%- if found | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as event_name,
        cast(null as {{ dbt.type_string() }}) as field_path
    where 1 = 0
    {%- else %}
        {%- for row in found %}
    select
        '{{ row['event_name'] | replace("'", "''") }}' as event_name,
        '{{ row['field_path'] | replace("'", "''") }}' as field_path
            {%- if not loop.last %}
    union all
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{% endtest %}


{% test non_increasing(model, column, partition_by, order_by) %}
    {#- Rows where `column` is greater than on the previous row of its
        partition (ordered by `order_by`): funnel steps, retention on or
        after a period, stickiness at least n days never grow. -#}
    with ordered as (
        select
            {{ partition_by | join(', ') }},
            {{ order_by }} as order_value,
            {{ column }} as value,
            lag({{ column }}) over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) as previous_value
        from {{ model }}
    )
    select * from ordered
    where ordered.value > ordered.previous_value
{% endtest %}


{% test relationships_in_latest_snapshot(model, column_name, to, field, snapshot_column) %}
    {#- `relationships`, on the latest snapshot only: older snapshots keep the
        persons as they were known then (a device identified later, or a
        person who opted out since, is not in today's dim_persons). -#}
    with latest as (
        select * from {{ model }}
        where {{ snapshot_column }} = (select max({{ snapshot_column }}) from {{ model }})
    )
    select latest.{{ column_name }}
    from latest
    left join {{ to }} as parent
        on latest.{{ column_name }} = parent.{{ field }}
    where latest.{{ column_name }} is not null
        and parent.{{ field }} is null
{% endtest %}
