{#
    Helper functions an engine needs and does not have, created by an
    on-run-start hook before any model runs.
#}

{% macro create_engine_functions() %}
    {{ return(adapter.dispatch('create_engine_functions', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__create_engine_functions() %}
    select 1
{% endmacro %}

{% macro postgres__create_engine_functions() %}
    {#- PostgreSQL 15 has no try-cast (pg_input_is_valid is 16+): a failed cast
        raises, so these catch it. `try_timestamptz` takes only ISO-8601 text
        (a date, a time, an optional Z or offset), as DuckDB does: PostgreSQL
        alone would read 'yesterday' or 'now'; a text without offset is UTC
        whatever the session's time zone. Both are `parallel unsafe`: an
        exception block is a subtransaction, which PostgreSQL refuses in a
        parallel query ("cannot start subtransactions during a parallel
        operation", seen from about 60,000 raw lines). -#}
    create schema if not exists behavior_functions;
    create or replace function behavior_functions.try_jsonb(value text) returns jsonb
    language plpgsql immutable parallel unsafe as $function$
    begin
        return value::jsonb;
    exception when others then
        return null;
    end
    $function$;
    create or replace function behavior_functions.try_timestamptz(value text) returns timestamptz
    language plpgsql stable parallel unsafe set timezone = 'UTC' as $function$
    begin
        if value !~ '^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?\s*$' then
            return null;
        end if;
        return value::timestamptz;
    exception when others then
        return null;
    end
    $function$
{% endmacro %}


{% macro note_disabled_python_models() %}
    {#- One log line when this target cannot run the dbt Python models
        (dbt_project.yml disables them there by target type). -#}
    {%- if execute and target.type in ['postgres', 'spark'] -%}
        {%- set why = 'runs them on Databricks only (a local session or Thrift server cannot)' if target.type == 'spark' else 'cannot run Python models' -%}
        {%- do log("behavioral_analytics: the dbt Python models (python_models/: segments, churn) are disabled on the " ~ target.type ~ " target: dbt-" ~ target.type ~ " " ~ why ~ ". After the build, `behavior score --target " ~ target.type ~ "` runs them on this warehouse (or build them on DuckDB, Snowflake, BigQuery, Databricks).", info=true) -%}
    {%- endif -%}
    select 1
{% endmacro %}


{% macro engine_model_settings() %}
    {#- Session settings for each model's transaction (a project-wide pre-hook). -#}
    {{ return(adapter.dispatch('engine_model_settings', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__engine_model_settings() %}
{% endmacro %}

{% macro postgres__engine_model_settings() %}
    {#- The planner estimates one row for a filtered CTE and then joins the
        funnel and session CTEs with nested loops, quadratic in events
        (fct_funnel_persons: minutes at 4,000 events, 4 s without). JIT
        compiles the long plans of these models for seconds each, more than
        it saves (fct_funnel_persons, person_features). Dates of instants
        are UTC days, as in DuckDB's profile, whatever the server's TimeZone. -#}
    set local enable_nestloop = off;
    set local jit = off;
    set local timezone = 'UTC'
{% endmacro %}


{% macro inlined_cte() %}
    {#- The keyword after `<name> as` that makes an engine compute a CTE at
        each reference instead of once. Every import CTE (`select * from` a
        ref or a source) and every plain filter of one carries it: reading a
        table again costs only the columns a reference needs, while a
        materialized CTE writes every column of every row and scans it back
        (int_events_attributed at 10M events: 28 s with its import CTE
        materialized, 11 s inlined). Also for a wide CTE that one reference
        reads whole and another reads only narrow, filtered columns of. -#}
    {{ return(adapter.dispatch('inlined_cte', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__inlined_cte() %}
{% endmacro %}

{% macro duckdb__inlined_cte() -%}
    {#- DuckDB materializes a CTE referenced twice: every column of every row
        is written to memory (spilled at 10M events) and scanned back. -#}
    not materialized
{%- endmacro %}

{% macro postgres__inlined_cte() -%}
    not materialized
{%- endmacro %}


{% macro materialized_cte() %}
    {#- The keyword after `<name> as` that makes an engine compute a CTE once. -#}
    {{ return(adapter.dispatch('materialized_cte', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__materialized_cte() %}
{% endmacro %}

{% macro postgres__materialized_cte() -%}
    {#- PostgreSQL inlines a CTE used once, so each reference to a parsed
        document (and its try-cast) would parse the line again. -#}
    materialized
{%- endmacro %}
