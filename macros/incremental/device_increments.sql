{#
    Incremental models that are recomputed per touched device (sessions are
    a device's history: a late event can extend or split any of its
    sessions, a new identification changes every event's person).

    Before the model runs (pre_hook), `device_increment_prepare` writes the
    devices whose input changed since the last run into `<model>__touched`
    and deletes their rows; the model then computes those devices only
    (`device_increment_filter`) and its rows are appended; the post_hook
    drops the helper table. On a first build or --full-refresh nothing of
    this runs and the model is built whole.
#}

{% macro touched_devices_relation() %}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__touched'
    )) }}
{% endmacro %}


{% macro device_increment_prepare(current_sql, signature_columns) %}
    {#- current_sql: the model's input rows now (one per event, with
        device_id); signature_columns: the columns whose change means the
        device must be recomputed. Compares a per-device signature of the
        input with the same signature of the model's own rows. -#}
    {%- if is_incremental() -%}
        {%- set touched = behavioral_analytics.touched_devices_relation() -%}
        drop table if exists {{ touched }};
        create table {{ touched }} as
        with
        current_rows as (
            {{ current_sql }}
        ),
        current_signatures as (
            select
                current_rows.device_id,
                count(*) as row_count,
                {{ behavioral_analytics.signature_agg(signature_columns, 'current_rows') }} as signature
            from current_rows
            group by 1
        ),
        built_signatures as (
            select
                built.device_id,
                count(*) as row_count,
                {{ behavioral_analytics.signature_agg(signature_columns, 'built') }} as signature
            from {{ this }} as built
            group by 1
        )
        select coalesce(current_signatures.device_id, built_signatures.device_id) as device_id
        from current_signatures
        full outer join built_signatures
            on current_signatures.device_id = built_signatures.device_id
        where current_signatures.device_id is null
            or built_signatures.device_id is null
            or current_signatures.row_count != built_signatures.row_count
            or current_signatures.signature != built_signatures.signature;
        delete from {{ this }}
        where device_id in (select touched.device_id from {{ touched }} as touched)
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}


{% macro device_increment_filter(device_column) -%}
    {%- if is_incremental() -%}
        {{ device_column }} in (select touched.device_id from {{ behavioral_analytics.touched_devices_relation() }} as touched)
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{% macro device_increment_cleanup() %}
    drop table if exists {{ behavioral_analytics.touched_devices_relation() }}
{% endmacro %}


{% macro signature_agg(columns, relation_alias) %}
    {#- An order-independent signature of a set of rows: the XOR of a hash of
        each row's columns. -#}
    {{ return(adapter.dispatch('signature_agg', 'behavioral_analytics')(columns, relation_alias)) }}
{% endmacro %}

{% macro default__signature_agg(columns, relation_alias) -%}
    bit_xor(hashtextextended(concat_ws('|'{% for column in columns %}, {{ relation_alias }}.{{ column }}::text{% endfor %}), 0))
{%- endmacro %}

{% macro duckdb__signature_agg(columns, relation_alias) -%}
    bit_xor(hash({% for column in columns %}{{ relation_alias }}.{{ column }}{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}

{% macro spark__signature_agg(columns, relation_alias) -%}
    bit_xor(xxhash64({% for column in columns %}{{ relation_alias }}.{{ column }}{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}
