{#- ref() and source() as dbt resolves them, without the database on DuckDB
    when it is this warehouse's own. DuckDB stores a view's SQL as written: a
    view reading "behavior".main_staging.base_tracker__event_lines fails once
    the file is copied to another name or attached under another alias
    (`Catalog "behavior" does not exist`), while an unqualified name resolves
    in the view's own catalog. Tables store no SQL, so nothing else changes;
    on PostgreSQL and Spark the database part is kept as dbt renders it. -#}

{% macro ref() %}
    {{ return(behavioral_analytics.in_own_catalog(builtins.ref(*varargs, **kwargs))) }}
{% endmacro %}

{% macro source() %}
    {{ return(behavioral_analytics.in_own_catalog(builtins.source(*varargs, **kwargs))) }}
{% endmacro %}

{% macro in_own_catalog(relation) %}
    {%- if target.type == 'duckdb' and relation is not string
        and relation.database is not none and relation.database == target.database -%}
        {{ return(relation.include(database=false)) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
