{% macro incremental_strategy_by_key() %}
    {#- The strategy of the models that replace their rows by unique key. -#}
    {{ return(adapter.dispatch('incremental_strategy_by_key', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__incremental_strategy_by_key() %}
    {{ return('delete+insert') }}
{% endmacro %}

{% macro spark__incremental_strategy_by_key() %}
    {#- Spark on plain Parquet has neither delete+insert nor merge (Delta, Iceberg,
        Hudi only); insert_overwrite replaces whole partitions, not keys. So the
        project rebuilds these models whole on Spark (+full_refresh in
        dbt_project.yml) and names a valid strategy that never runs. -#}
    {{ return('insert_overwrite') }}
{% endmacro %}
