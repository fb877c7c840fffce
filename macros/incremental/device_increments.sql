{#
    Incremental models that are recomputed per touched device (sessions are
    a device's history: a late event can extend or split any of its
    sessions, a new identification changes every event's person).

    The devices whose input changed since the model was last built are a
    model of their own, int_devices_touched (built first, in the DAG): it
    compares a per-device signature of the input with the same signature of
    the built rows, read through `device_increment_built_relation` (the
    relation, not a ref: no cycle). Before the incremental model runs
    (pre_hook), `device_increment_prepare` deletes the touched devices' rows;
    the model then computes those devices only (`device_increment_filter`)
    and its rows are appended. On a first build or --full-refresh nothing of
    this runs and the model is built whole (the touched model then lists
    every device, `full_build`).

    The attributed events, the sessions and the event and session marts go
    back only as far as they must: their touched model gives each changed
    device where to recompute from (int_attributed_devices_touched: the
    first changed day; int_devices_touched: the activity block before it;
    int_mart_devices_touched: the session before it; null: the whole
    device), and `device_lookback_prepare` / `device_lookback_join` delete
    and compute that device's rows from there on only.
#}

{% macro device_increment_built_relation(model_name) %}
    {#- The built table of a per-device incremental model, or none when that
        model is built whole this run (not built yet, not a table,
        --full-refresh, or a target that rebuilds incremental models whole:
        Spark's +full_refresh), as its own is_incremental() will say. -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.behavioral_analytics.' ~ model_name) -%}
    {%- if flags.FULL_REFRESH or node is none or node.config.full_refresh -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {{ return(built if built is not none and built.is_table else none) }}
{% endmacro %}


{% macro device_increment_require_built(touched_relation) %}
    {#- Raises when this run does not build the touched model (its list
        would be stale). -#}
    {%- set touched_id = 'model.behavioral_analytics.' ~ touched_relation.identifier -%}
    {%- if touched_id not in selected_resources -%}
        {{ exceptions.raise_compiler_error(
            "behavioral_analytics: " ~ this.identifier ~ " recomputes the devices listed in "
            ~ touched_relation.identifier ~ ", which this run does not build (it would be stale):"
            ~ " select it too, e.g. `--select " ~ touched_relation.identifier ~ "+` or `+" ~ this.identifier ~ "`."
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro device_increment_prepare(touched_relation, key_column='device_id') %}
    {#- touched_relation: the model of the devices to recompute
        (int_devices_touched, built earlier in this run). Deletes their rows
        from this model. key_column: the key the touched model lists
        (device_id; person_id for int_mart_persons_touched). -#}
    {{- behavioral_analytics.device_increment_delete(
        touched_relation,
        'built.' ~ key_column ~ ' in (select touched.' ~ key_column ~ ' from ' ~ touched_relation ~ ' as touched)'
    ) -}}
{% endmacro %}


{% macro device_increment_delete(touched_relation, rows_condition) %}
    {#- The pre-hook's delete, on incremental runs only: the rows of this
        model (aliased `built`) that rows_condition names, or every row when
        the touched model lists full_build. Spark never gets here: there
        is_incremental() is false (+full_refresh), as plain Parquet tables
        have no delete. -#}
    {%- if is_incremental() -%}
        {{- behavioral_analytics.device_increment_require_built(touched_relation) -}}
        delete from {{ this }} as built
        where {{ rows_condition }}
            -- a touched model that lists every device as full_build (one of
            -- the tables it compares with is built whole) replaces every row
            or exists (
                select 1 from {{ touched_relation }} as touched
                where touched.change_reason = 'full_build'
            )
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}


{% macro device_increment_filter(device_column, touched_relation, key_column='device_id') -%}
    {%- if is_incremental() -%}
        ({{ device_column }} in (select touched.{{ key_column }} from {{ touched_relation }} as touched)
        or exists (select 1 from {{ touched_relation }} as touched where touched.change_reason = 'full_build'))
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{% macro device_lookback_condition(row_alias, touched_alias, by='event') -%}
    {#- The row of a touched device is recomputed: the whole device (no
        starting point), or the row is at or after it. by='event'
        (int_devices_touched): from (recompute_from_at,
        recompute_from_event_id) in the contract's order (event_at, then
        event_id); by='session' (int_mart_devices_touched): from the
        session numbered recompute_from_session_index on; by='day'
        (int_attributed_devices_touched): every row at or after
        recompute_from_at (the start of the first changed day). -#}
    ({{ touched_alias }}.device_id = {{ row_alias }}.device_id
    {%- if by == 'session' %}
        and ({{ touched_alias }}.recompute_from_session_index is null
            or {{ row_alias }}.session_index >= {{ touched_alias }}.recompute_from_session_index))
    {%- elif by == 'day' %}
        and ({{ touched_alias }}.recompute_from_at is null
            or {{ row_alias }}.event_at >= {{ touched_alias }}.recompute_from_at))
    {%- else %}
        and ({{ touched_alias }}.recompute_from_at is null
            or {{ row_alias }}.event_at > {{ touched_alias }}.recompute_from_at
            or ({{ row_alias }}.event_at = {{ touched_alias }}.recompute_from_at
                and {{ row_alias }}.event_id >= {{ touched_alias }}.recompute_from_event_id)))
    {%- endif %}
{%- endmacro %}


{% macro device_lookback_prepare(touched_relation, by='event') %}
    {#- As device_increment_prepare, for a model whose touched model gives
        where each device is recomputed from (int_attributed_devices_touched
        by day, int_devices_touched by event, int_mart_devices_touched by
        session): deletes those rows of this model only. -#}
    {{- behavioral_analytics.device_increment_delete(
        touched_relation,
        'exists (select 1 from ' ~ touched_relation ~ ' as touched where '
        ~ behavioral_analytics.device_lookback_condition('built', 'touched', by) ~ ')'
    ) -}}
{% endmacro %}


{% macro device_lookback_join(row_alias, touched_relation, by='event') -%}
    {#- The join that keeps, on incremental runs, the rows of the touched
        devices from where each is recomputed on (nothing on a full build).
        A join, not a `where exists`: DuckDB pushes the few touched devices
        into the scan of the input as a filter, where an `exists` (or an
        `in` or'ed with another condition) made it read every column of
        every row first (int_events_sessionized at 10M: 21-29 s against
        3.6-4.0 s for the same 211,562 rows). When the touched model lists
        `full_build` (the model's table is kept but one it compares with is
        built whole), every device with rows is listed, without a starting
        point, so the join keeps every row. -#}
    {%- if is_incremental() -%}
        inner join {{ touched_relation }} as increment
            on {{ behavioral_analytics.device_lookback_condition(row_alias, 'increment', by) }}
    {%- endif -%}
{%- endmacro %}


{% macro device_lookback_kept_sessions() -%}
    {#- In the select of device_lookback_join's rows (by='event'): how many
        sessions the row's device keeps before where it is recomputed
        (int_devices_touched.kept_session_count); 0 on a full build, which
        has no join. -#}
    {%- if is_incremental() -%}
        coalesce(increment.kept_session_count, 0)
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}


{% macro signature_agg(columns, relation_alias) %}
    {#- An order-independent signature of a set of rows: the XOR of a hash of
        each row's columns. -#}
    {{ return(adapter.dispatch('signature_agg', 'behavioral_analytics')(columns, relation_alias)) }}
{% endmacro %}

{% macro default__signature_agg(columns, relation_alias) -%}
    {#- The row's text as a record, `(v1,,"a|b")`: a null keeps its place and a
        value holding a separator is quoted (concat_ws skipped the nulls, so
        (x, null, y) and (x, y, null) hashed alike). -#}
    bit_xor(hashtextextended(row({% for column in columns %}{{ relation_alias }}.{{ column }}{{ ", " if not loop.last }}{% endfor %})::text, 0))
{%- endmacro %}

{% macro duckdb__signature_agg(columns, relation_alias) -%}
    {#- The row's hash is hashed again: DuckDB combines the hashes of several
        values by a multiply and an XOR with the last one, so a value of the
        last column shared by an even number of rows cancelled out of the
        XOR (a person's opt-out that reached every row of a device-day with
        an even count went unseen; the second hash mixes the row's value). -#}
    bit_xor(hash(hash({% for column in columns %}{{ relation_alias }}.{{ column }}{{ ", " if not loop.last }}{% endfor %})))
{%- endmacro %}

{% macro spark__signature_agg(columns, relation_alias) -%}
    {#- xxhash64 skips a null argument, so which columns are null is hashed
        too: (x, null, y) and (x, y, null) differ. -#}
    bit_xor(xxhash64(
        {%- for column in columns %}{{ relation_alias }}.{{ column }}, {% endfor -%}
        {%- for column in columns %}{{ relation_alias }}.{{ column }} is null{{ ", " if not loop.last }}{% endfor -%}
    ))
{%- endmacro %}


{% macro device_day_signatures(relation, columns, empty_like=none) -%}
    {#- Per device and day of event_at (the rows of `relation`, a CTE or a
        relation): the row count and the signature_agg of `columns`. A
        device's own signature is the XOR of its days'
        (`device_signatures_from_days`), and its first day whose signature
        differs is where it changed first (`first_changed_days`): one
        aggregation, no join of rows. relation none (a table built whole
        this run): no rows, with the columns of `empty_like` (the same
        signatures of the current rows). -#}
    {%- if relation is none -%}
    select {{ empty_like }}.*
    from {{ empty_like }}
    where 1 = 0
    {%- else -%}
    select
        day_rows.device_id,
        {{ dbt.date_trunc('day', 'day_rows.event_at') }} as event_day,
        count(*) as row_count,
        {{ behavioral_analytics.signature_agg(columns, 'day_rows') }} as signature
    from {{ relation }} as day_rows
    group by day_rows.device_id, {{ dbt.date_trunc('day', 'day_rows.event_at') }}
    {%- endif %}
{%- endmacro %}


{% macro device_signatures_from_days(days) -%}
    {#- Per device: its row count and signature, from device_day_signatures. -#}
    select
        {{ days }}.device_id,
        sum({{ days }}.row_count) as row_count,
        {{ behavioral_analytics.xor_agg(days ~ '.signature') }} as signature
    from {{ days }}
    group by {{ days }}.device_id
{%- endmacro %}


{% macro first_changed_days(current_days, built_days) -%}
    {#- Per device with a day whose rows differ now from as built (count or
        signature; a day on one side only): the start of the first such day
        (first_difference_at). Every row before it is the same on both
        sides. -#}
    select
        coalesce(current_days.device_id, built_days.device_id) as device_id,
        min(coalesce(current_days.event_day, built_days.event_day)) as first_difference_at
    from {{ current_days }} as current_days
    full outer join {{ built_days }} as built_days
        on
            current_days.device_id = built_days.device_id
            and current_days.event_day = built_days.event_day
    where
        current_days.device_id is null
        or built_days.device_id is null
        or current_days.row_count != built_days.row_count
        or current_days.signature != built_days.signature
    group by coalesce(current_days.device_id, built_days.device_id)
{%- endmacro %}


{% macro xor_agg(column) %}
    {#- The bitwise XOR of a column's values (of signature_agg's signatures). -#}
    {{ return(adapter.dispatch('xor_agg', 'behavioral_analytics')(column)) }}
{% endmacro %}

{% macro default__xor_agg(column) -%}
    bit_xor({{ column }})
{%- endmacro %}


{% macro built_signatures(built_relation, columns, empty_like, key_column='device_id') -%}
    {#- Per key of a per-device (or per-person) incremental model as built:
        its row count and the signature_agg of `columns`. When the model is
        built whole this run (built_relation is none, see
        device_increment_built_relation) an empty relation with the columns
        of `empty_like` (the same signatures computed from the current input:
        key, row_count, signature), so the comparison lists every key as new. -#}
    {%- if built_relation is none -%}
        select {{ empty_like }}.*
        from {{ empty_like }}
        where 1 = 0
    {%- else -%}
        select
            built.{{ key_column }},
            count(*) as row_count,
            {{ behavioral_analytics.signature_agg(columns, 'built') }} as signature
        from {{ built_relation }} as built
        group by built.{{ key_column }}
    {%- endif -%}
{%- endmacro %}


{% macro person_mart_events(relation_alias) -%}
    {#- The events of int_events_enriched that dim_persons is made of: a
        human device's events with a person. -#}
    (not {{ relation_alias }}.is_bot and {{ relation_alias }}.person_id is not null)
{%- endmacro %}
