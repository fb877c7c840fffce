{#
    Data tests of the per-device incremental marts look at the increment only.

    A test whose `where` config holds the placeholder `__device_increment__`
    (`__person_increment__`: the persons of int_mart_persons_touched)
    (the config cannot call a project macro: dbt renders it with the YAML
    context, so the placeholder is replaced here, as dbt's docs suggest) tests
    only the rows of the devices int_mart_devices_touched lists, when this
    invocation builds that model and lists no device as `full_build`: the
    rows an incremental build rewrote. On a first build, --full-refresh,
    Spark (every device `full_build`) and a `dbt test` that does not build
    the state model (it would name an earlier run's devices), every row.
#}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__device_increment__' in where -%}
        {%- set where = where | replace('__device_increment__', behavioral_analytics.device_increment_test_scope()) -%}
    {%- endif -%}
    {%- if where and '__person_increment__' in where -%}
        {%- set where = where | replace(
            '__person_increment__',
            behavioral_analytics.device_increment_test_scope('person_id', 'int_mart_persons_touched', 'person_id')
        ) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}


{% macro device_increment_test_scope(device_column='device_id', touched_model='int_mart_devices_touched', key_column='device_id') -%}
    {#- The condition a test of a per-device incremental mart applies to its rows. -#}
    {%- set node = graph.nodes.get('model.behavioral_analytics.' ~ touched_model) if execute else none -%}
    {%- if node is none or flags.FULL_REFRESH or node.unique_id not in selected_resources -%}
        {{ return('(1 = 1)') }}
    {%- endif -%}
    {%- set touched = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- set scope -%}
        ({{ device_column }} in (select touched.{{ key_column }} from {{ touched }} as touched)
        or exists (select 1 from {{ touched }} as touched where touched.change_reason = 'full_build'))
    {%- endset -%}
    {{ return(scope) }}
{%- endmacro %}
