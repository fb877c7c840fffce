{#
    Publishes every mart (each model in the marts schema that exists) for BI
    tools as a consistent snapshot: Parquet files in a new version folder, a
    new DuckDB file of views over them (plus `serving_versions`: the version,
    each mart's row count and file), renamed over the served file
    (BEHAVIOR_SERVING_PATH, default serving.duckdb beside the warehouse).
    `behavior publish` runs it (`dbt run-operation publish_serving`); the
    on-run-end hook runs it after a build without errors when
    `behavior__publish` is true. Python in behavioral_analytics.serving.
#}
{% macro publish_serving(results=none) %}
    {{ return(adapter.dispatch('publish_serving', 'behavioral_analytics')(results)) }}
{% endmacro %}


{% macro default__publish_serving(results) %}
    {#- Other engines serve their marts themselves: BI reads the warehouse. -#}
    {%- do log("behavioral_analytics: publish_serving is for DuckDB; on " ~ target.type ~ " BI tools read the marts schema directly", info=true) -%}
    select 1
{% endmacro %}


{% macro duckdb__publish_serving(results) %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- if results is not none -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
        {%- if failed | length > 0 -%}
            {%- do log("behavioral_analytics: not published: " ~ failed | length ~ " node(s) failed in this run; the previous version stays served", info=true) -%}
            {{ return('select 1') }}
        {%- endif -%}
    {%- endif -%}
    {%- set served = run_query("select behavior_served_path('" ~ target.path | replace("'", "''") ~ "')").columns[0].values()[0] -%}
    {%- set version = modules.datetime.datetime.utcnow().strftime('v%Y%m%dT%H%M%S%fZ') -%}
    {%- set folder = served[:-7] ~ '_versions/' ~ version if served.endswith('.duckdb') else served ~ '_versions/' ~ version -%}
    {%- set next_file = served ~ '.next-' ~ version -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and node.schema == target.schema ~ '_marts' -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is not none -%}
            {%- do marts.append([node.alias, relation]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if marts | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "behavioral_analytics: nothing to publish: the warehouse has no marts in schema '"
            ~ target.schema ~ "_marts' (its build failed or has not run); run `dbt build` first"
        ) }}
    {%- endif -%}
    {%- do run_query("select behavior_make_dirs('" ~ folder ~ "')") -%}
    {%- set counts = [] -%}
    {%- for name, relation in marts -%}
        {%- set path = folder ~ '/' ~ name ~ '.parquet' -%}
        {%- do run_query("copy (select * from " ~ relation ~ ") to '" ~ path ~ "' (format parquet)") -%}
        {%- set rows = run_query("select count(*) from read_parquet('" ~ path ~ "')").columns[0].values()[0] -%}
        {%- do counts.append([name, rows, path]) -%}
    {%- endfor -%}
    {%- set statements -%}
        attach '{{ next_file }}' as serving_next;
        create table serving_next.main.serving_versions as
        select * from (values
            {%- for name, rows, path in counts %}
            ('{{ version }}', '{{ name }}', cast({{ rows }} as bigint), '{{ path }}', current_timestamp){{ ',' if not loop.last }}
            {%- endfor %}
        ) as published (version, mart, row_count, parquet_path, published_at);
        {% for name, rows, path in counts -%}
        create view serving_next.main.{{ name }} as select * from read_parquet('{{ path }}');
        {% endfor -%}
    {%- endset -%}
    {%- do run_query(statements) -%}
    {#- DuckDB detaches only after the transaction that wrote the file is committed -#}
    {%- do adapter.commit() -%}
    {%- do run_query("detach serving_next") -%}
    {%- do run_query("select behavior_switch_serving('" ~ next_file ~ "', '" ~ served ~ "', '" ~ version ~ "', " ~ var('behavior__serving_keep_versions') ~ ")") -%}
    {%- do log("behavioral_analytics: published " ~ counts | length ~ " marts as " ~ version ~ " in " ~ served, info=true) -%}
    select 1
{% endmacro %}
