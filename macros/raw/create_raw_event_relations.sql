{#
    Exposes the raw event files as the relation behind the `tracker` source
    (`<behavior__raw_schema>.event_lines`): one row per line read, nothing
    filtered, so that staging can account for every line.
    Runs as an on-run-start hook.
#}
{% macro create_raw_event_relations() %}
    {{ return(adapter.dispatch('create_raw_event_relations', 'behavioral_analytics')()) }}
{% endmacro %}


{% macro default__create_raw_event_relations() %}
    {#- Engines that cannot read files: `behavior load` fills the table. -#}
    select 1
{% endmacro %}


{% macro duckdb__create_raw_event_relations() %}
    {#- DuckDB reads the files in place: JSONL by line, Parquet and CSV by row. -#}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set root = behavioral_analytics.events_root() -%}
    {%- set schema = var('behavior__raw_schema') -%}
    {%- set found = run_query(behavioral_analytics.duckdb__count_raw_files(root)) -%}
    {%- set counts = found.rows[0] -%}
    {%- set selects = [] -%}
    {%- set has_jsonl = counts['jsonl_files'] + counts['jsonl_gz_files'] > 0 -%}
    {%- if has_jsonl -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_jsonl_lines(root, counts['jsonl_files'] > 0, counts['jsonl_gz_files'] > 0)) -%}
    {%- endif -%}
    {%- if counts['parquet_files'] > 0 -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_parquet_rows(root)) -%}
    {%- endif -%}
    {%- if counts['csv_files'] > 0 -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_csv_rows(root)) -%}
    {%- endif -%}
    {%- if selects | length == 0 -%}
        {%- do log("behavioral_analytics: no event files (.jsonl, .jsonl.gz, .parquet, .csv) under '" ~ root ~ "'; set BEHAVIOR_EVENTS_PATH or the var behavior__events_path. The raw relation is empty.", info=true) -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_no_lines()) -%}
    {%- endif -%}
    create schema if not exists {{ schema }};
    create or replace view {{ schema }}.event_lines as
    with
    {% if has_jsonl -%}
    {{ behavioral_analytics.duckdb__jsonl_files_cte(root, counts['jsonl_files'] > 0, counts['jsonl_gz_files'] > 0) }}
    {%- endif %}
    lines as (
        {{ selects | join('\n        union all\n') }}
    )
    select
        lines.file_path,
        substr(lines.file_path, {{ root | length + 2 }}) as file_name,
        lines.file_format,
        try_cast(regexp_extract(lines.file_path, 'received_date=(\d{4}-\d{2}-\d{2})', 1) as date) as received_date,
        lines.line_number,
        lines.raw_line
    from lines
{% endmacro %}


{% macro events_root() %}
    {#- The events folder without a trailing slash. -#}
    {%- set root = var('behavior__events_path') | trim -%}
    {%- if root | length > 1 and root.endswith('/') -%}
        {%- set root = root[:-1] -%}
    {%- endif -%}
    {{ return(root) }}
{% endmacro %}


{% macro duckdb__count_raw_files(root) %}
    select
        count(*) filter (where file like '%.jsonl') as jsonl_files,
        count(*) filter (where file like '%.jsonl.gz') as jsonl_gz_files,
        count(*) filter (where file like '%.parquet') as parquet_files,
        count(*) filter (where file like '%.csv') as csv_files
    from glob('{{ root }}/**')
{% endmacro %}


{% macro duckdb__select_jsonl_lines(root, has_plain, has_gzip) %}
    {#- read_text cannot decompress: .gz files go through read_blob and the
        behavior_gunzip function of the project's dbt-duckdb plugin. The split
        is materialized so that each file is read and decompressed once. -#}
        select
            split_lines.file_path,
            'jsonl' as file_format,
            split_lines.line_number,
            rtrim(split_lines.raw_line, chr(13)) as raw_line
        from (
            select
                files.file_path,
                unnest(files.lines) as raw_line,
                generate_subscripts(files.lines, 1) as line_number,
                len(files.lines) as split_count
            from jsonl_files as files
        ) as split_lines
        -- the text after a file's final newline is not a line
        where not (split_lines.line_number = split_lines.split_count and split_lines.raw_line = '')
{% endmacro %}


{% macro duckdb__jsonl_files_cte(root, has_plain, has_gzip) %}
    jsonl_files as materialized (
        {%- if has_plain %}
        select filename as file_path, string_split(content, chr(10)) as lines
        from read_text('{{ root }}/**/*.jsonl')
        {%- endif %}
        {%- if has_plain and has_gzip %}
        union all
        {%- endif %}
        {%- if has_gzip %}
        select filename as file_path, string_split(behavior_gunzip(content, filename), chr(10)) as lines
        from read_blob('{{ root }}/**/*.jsonl.gz')
        {%- endif %}
    ),
{% endmacro %}


{% macro duckdb__select_parquet_rows(root) %}
    {#- Each row becomes its JSON text, so that one parser validates every format. -#}
        select
            parquet_rows.filename as file_path,
            'parquet' as file_format,
            parquet_rows.file_row_number + 1 as line_number,
            json_merge_patch(
                to_json(parquet_rows), '{"filename": null, "file_row_number": null}'
            )::varchar as raw_line
        from read_parquet(
            '{{ root }}/**/*.parquet',
            filename = true, file_row_number = true, union_by_name = true, hive_partitioning = false
        ) as parquet_rows
{% endmacro %}


{% macro duckdb__select_csv_rows(root) %}
    {#- line_number is the CSV line: the header is line 1. -#}
        select
            csv_rows.filename as file_path,
            'csv' as file_format,
            row_number() over (partition by csv_rows.filename order by csv_rows.ordinality) + 1 as line_number,
            json_merge_patch(
                to_json(csv_rows), '{"filename": null, "ordinality": null}'
            )::varchar as raw_line
        from (
            select *
            from read_csv(
                '{{ root }}/**/*.csv',
                header = true, all_varchar = true, filename = true, union_by_name = true,
                hive_partitioning = false
            ) with ordinality
        ) as csv_rows
{% endmacro %}


{% macro duckdb__select_no_lines() %}
        select
            cast(null as varchar) as file_path,
            cast(null as varchar) as file_format,
            cast(null as bigint) as line_number,
            cast(null as varchar) as raw_line
        where false
{% endmacro %}
