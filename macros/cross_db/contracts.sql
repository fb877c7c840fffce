{#-
    The column types of contracts and seeds are written once, in
    DuckDB/PostgreSQL names; Spark spells four of them differently (and
    refuses `varchar` without a length). These overrides of dbt's own
    dispatched macros translate them on Spark.
-#}

{% macro spark_type(data_type) %}
    {#- A contract or seed type as Spark names it. -#}
    {%- set spark_types = {
        'varchar': 'string',
        'double precision': 'double',
        'timestamp with time zone': 'timestamp',
        'integer': 'int',
    } -%}
    {{ return(spark_types.get(data_type | lower | trim, data_type) if data_type is string else data_type) }}
{% endmacro %}


{% macro spark__get_empty_schema_sql(columns) %}
    {#- dbt's contract check casts null to each declared type: Spark's names. -#}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set column = columns[name].copy() -%}
        {%- if column.get('data_type') is not none -%}
            {%- do column.update({'data_type': behavioral_analytics.spark_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{% endmacro %}


{% macro spark__create_csv_table(model, agate_table) %}
    {#- dbt-spark's seed table with the seeds' column_types in Spark's names. -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {% set sql %}
        create table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                {%- set type = behavioral_analytics.spark_type(column_override.get(col_name, inferred_type)) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }}{{ ", " if not loop.last }}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}


{% macro spark__load_csv_rows(model, agate_table) %}
    {#- dbt-spark's seed rows with Spark's type names and the values written
        in the SQL: its session connection pastes bindings unescaped, so a
        value with a quote (Google's crawler) broke the statement. -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = behavioral_analytics.spark_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ value | string | replace("'", "' || chr(39) || '") }}' as {{ type }})
                    {%- endif -%}
                    {{ ", " if not loop.last }}
                {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) if loop.first -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
