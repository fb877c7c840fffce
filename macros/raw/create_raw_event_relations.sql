{#
    Exposes the raw event files as the relations behind the `tracker` source,
    one row per line read, nothing filtered, so that staging can account for
    every line:
    - `<behavior__raw_schema>.event_lines`: every file (a lazy view);
    - `<behavior__raw_schema>.event_lines_pending`: the files this run loads.
      On a first build or with --full-refresh, every file. Otherwise the files
      staging has not loaded yet whose received date is at most
      `behavior__incremental_lookback_days` before the latest loaded one
      (received dates after today do not count, so one future-dated folder
      cannot stall loads). An
      unloaded file older than that is left out and named in a warning.
      On DuckDB its Parquet and CSV rows come typed, not rendered to JSON
      text (duckdb__typed_row_values; staging reads them with typed_row_value).
    - `<behavior__raw_schema>.event_files`: one row per file found with the
      status this run found it in (staged, pending, outside_lookback,
      unreadable), read by stg_tracker__files.
    Runs as an on-run-start hook.
#}
{% macro create_raw_event_relations() %}
    {{ return(adapter.dispatch('create_raw_event_relations', 'behavioral_analytics')()) }}
{% endmacro %}


{% macro default__create_raw_event_relations() %}
    {#- Engines that cannot read files in place: `behavior load` fills
        `<behavior__raw_schema>.event_lines`, `loaded_files` and
        `unreadable_files`; this hook only makes `event_lines_pending`, a view
        of the lines of the files this run loads (the same rule as on DuckDB). -#}
    {{ return(behavioral_analytics.loaded_raw_relations_statements() | join(';\n')) }}
{% endmacro %}


{% macro spark__create_raw_event_relations() %}
    {#- Spark runs one statement per query: each statement of the default, in turn. -#}
    {%- for statement in behavioral_analytics.loaded_raw_relations_statements() -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return('select 1') }}
{% endmacro %}


{% macro loaded_raw_relations_statements() %}
    {#- The statements of default__create_raw_event_relations, as a list. -#}
    {%- if not execute -%}
        {{ return(['select 1']) }}
    {%- endif -%}
    {%- set schema = var('behavior__raw_schema') -%}
    {%- set lines = adapter.get_relation(database=target.database, schema=schema, identifier='event_lines') -%}
    {%- set reads_lines = flags.WHICH not in ['compile', 'generate', 'docs', 'parse', 'list', 'ls'] -%}
    {%- if lines is none and reads_lines and not var('behavior__allow_no_event_files') -%}
        {{ exceptions.raise_compiler_error(
            "behavioral_analytics: no raw table " ~ schema ~ ".event_lines on the " ~ target.type
            ~ " target: load the event files first with `behavior load --target " ~ target.name
            ~ "` (files from BEHAVIOR_EVENTS_PATH), or pass --vars"
            ~ " '{behavior__allow_no_event_files: true}' to build empty tables on purpose."
        ) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- if lines is none -%}
        {#- an empty build on purpose: the tables `behavior load` would create -#}
        {%- do statements.append("create schema if not exists " ~ schema) -%}
        {%- do statements.append(
            "create table if not exists " ~ schema ~ ".event_lines ("
            ~ "file_path " ~ dbt.type_string() ~ ", file_name " ~ dbt.type_string()
            ~ ", file_format " ~ dbt.type_string() ~ ", received_date date"
            ~ ", line_number " ~ dbt.type_bigint() ~ ", raw_line " ~ dbt.type_string()
            ~ ", encoding_error " ~ dbt.type_string() ~ ")") -%}
        {%- do statements.append(
            "create table if not exists " ~ schema ~ ".loaded_files ("
            ~ "file_name " ~ dbt.type_string() ~ behavioral_analytics.primary_key_clause()
            ~ ", file_path " ~ dbt.type_string() ~ ", received_date date"
            ~ ", size_bytes " ~ dbt.type_bigint() ~ ", sha256 " ~ dbt.type_string()
            ~ ", line_count " ~ dbt.type_bigint()
            ~ ", loaded_at " ~ behavioral_analytics.type_timestamp_tz() ~ ")") -%}
        {%- do statements.append(
            "create table if not exists " ~ schema ~ ".unreadable_files ("
            ~ "file_path " ~ dbt.type_string() ~ ", file_name " ~ dbt.type_string()
            ~ ", file_format " ~ dbt.type_string() ~ ", received_date date"
            ~ ", file_size_bytes " ~ dbt.type_bigint() ~ ", file_error " ~ dbt.type_string() ~ ")") -%}
    {%- endif -%}
    {%- set pending = behavioral_analytics.default__pending_raw_files(schema) if lines is not none else none -%}
    {%- set view -%}
    create or replace view {{ schema }}.event_lines_pending as
    select * from {{ schema }}.event_lines
    {%- if pending is not none %}
    where {% if pending | length == 0 %}1 = 0{% else %}file_name in (
        {%- for name in pending %}'{{ name | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%}
    ){% endif %}
    {%- endif %}
    {%- endset -%}
    {%- do statements.append(view) -%}
    {#- the files `behavior load` put in the raw tables, and those it could not read -#}
    {%- set files -%}
        select
            loaded_files.file_path,
            loaded_files.file_name,
            {{ behavioral_analytics.raw_file_format('loaded_files.file_name') }} as file_format,
            loaded_files.received_date,
            (1 = 0) as is_unreadable
        from {{ schema }}.loaded_files as loaded_files
        union all
        select
            unreadable_files.file_path,
            unreadable_files.file_name,
            unreadable_files.file_format,
            unreadable_files.received_date,
            (1 = 1) as is_unreadable
        from {{ schema }}.unreadable_files as unreadable_files
        where unreadable_files.file_name not in (select loaded.file_name from {{ schema }}.loaded_files as loaded)
    {%- endset -%}
    {%- set pending_files = none if pending is none
        else behavioral_analytics.in_list('files.file_name', pending) -%}
    {%- do statements.extend(behavioral_analytics.event_files_statements(schema, files, pending_files)) -%}
    {{ return(statements) }}
{% endmacro %}


{% macro raw_file_format(file_column) -%}
    {#- jsonl (also .jsonl.gz), parquet or csv, from the file's extension. -#}
    case
        when {{ file_column }} like '%.parquet' then 'parquet'
        when {{ file_column }} like '%.csv' then 'csv'
        else 'jsonl'
    end
{%- endmacro %}


{% macro event_files_statements(schema, files, pending_condition) %}
    {#- The statements that write `<schema>.event_files`, one row per raw
        events file found with the status this run found it in:
        `unreadable` (probed and cannot be read), `pending` (this run loads
        it: pending_condition, or every file when that is none: a first build,
        --full-refresh, a target that rebuilds staging whole), `staged`
        (loaded by an earlier run: base_tracker__event_lines holds it), else
        `outside_lookback` (not loaded, older than
        behavior__incremental_lookback_days before the latest staged received
        date). files: a query of file_path, file_name, file_format,
        received_date, is_unreadable. A table, not a view: it keeps this
        run's statuses when files arrive later. -#}
    {%- set staged = none if pending_condition is none else behavioral_analytics.staged_event_lines_relation() -%}
    {%- set table -%}
    create table {{ schema }}.event_files as
    select
        files.file_path,
        files.file_name,
        files.file_format,
        files.received_date,
        case
            when files.is_unreadable then 'unreadable'
            {% if staged is none -%}
            else 'pending'
            {%- else -%}
            when {{ pending_condition }} then 'pending'
            when files.file_name in (select staged.file_name from {{ staged }} as staged) then 'staged'
            else 'outside_lookback'
            {%- endif %}
        end as load_status
    from (
        {{ files }}
    ) as files
    {%- endset -%}
    {{ return(['drop table if exists ' ~ schema ~ '.event_files', table]) }}
{% endmacro %}


{% macro staged_event_lines_relation() %}
    {#- base_tracker__event_lines as built, or none when staging is built
        whole this run (not built yet, --full-refresh, a target that
        rebuilds it whole). -#}
    {%- set node = graph.nodes.get('model.behavioral_analytics.base_tracker__event_lines') -%}
    {%- if flags.FULL_REFRESH or node is none or node.config.full_refresh -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}


{% macro primary_key_clause() %}
    {{ return(adapter.dispatch('primary_key_clause', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__primary_key_clause() %}
    {{ return(' primary key') }}
{% endmacro %}

{% macro spark__primary_key_clause() %}
    {#- Spark's Parquet tables have no primary keys (the loader keeps file names unique). -#}
    {{ return('') }}
{% endmacro %}


{% macro default__pending_raw_files(schema) %}
    {#- The loaded files (names) this run stages, or none for every file. -#}
    {%- set candidates -%}
        select file_name, received_date, file_name as pending from {{ schema }}.loaded_files
    {%- endset -%}
    {{ return(behavioral_analytics.pending_raw_files_among(candidates)) }}
{% endmacro %}


{% macro pending_raw_files_among(candidates) %}
    {#- The rule every engine stages by: of `candidates` (a query of
        file_name, received_date and `pending`, the value returned), the
        files staging has not taken in whose received date is within
        behavior__incremental_lookback_days of the latest staged one (or
        unknown); none (every file) on a first build, a --full-refresh or a
        target that rebuilds staging whole. Logs the count, and warns of the
        files left out by the lookback. -#}
    {%- set staged = behavioral_analytics.staged_event_lines_relation() -%}
    {%- if staged is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lookback = var('behavior__incremental_lookback_days') | int -%}
    {%- set query -%}
        with
        candidates as (
            {{ candidates }}
        ),
        staged_files as (
            select distinct file_name from {{ staged }}
        ),
        -- received dates after today (a broken clock) do not move the mark
        high_water_mark as (
            select max(received_date) as received_date
            from {{ staged }}
            where received_date <= current_date
        )
        select
            candidates.pending,
            candidates.received_date is null
            or high_water_mark.received_date is null
            or candidates.received_date
            >= {{ dbt.dateadd('day', -lookback, 'high_water_mark.received_date') }} as is_within_lookback
        from candidates
        cross join high_water_mark
        where candidates.file_name not in (select staged_files.file_name from staged_files)
        order by candidates.pending
    {%- endset -%}
    {%- set pending = [] -%}
    {%- set skipped = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do (pending if row[1] else skipped).append(row[0]) -%}
    {%- endfor -%}
    {%- if skipped | length > 0 -%}
        {%- do log("behavioral_analytics: WARNING " ~ skipped | length ~ " unloaded file(s) are older than behavior__incremental_lookback_days (" ~ lookback ~ ") before the latest loaded received date and are not loaded; run with --full-refresh (or a larger lookback) to take them in: " ~ skipped[:20] | join(', '), info=true) -%}
    {%- endif -%}
    {%- do log("behavioral_analytics: incremental load of " ~ pending | length ~ " new file(s)", info=true) -%}
    {{ return(pending) }}
{% endmacro %}


{% macro duckdb__create_raw_event_relations() %}
    {#- DuckDB reads the files in place: JSONL by line, Parquet and CSV by row.
        A file that cannot be read at all (empty, broken gzip, not Parquet, a
        CSV that does not parse) is probed first, left out of the line
        relations and listed in `<behavior__raw_schema>.unreadable_files`;
        it stays pending, so once it is replaced the next build loads it. -#}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set root = behavioral_analytics.events_root() -%}
    {%- set schema = var('behavior__raw_schema') -%}
    {%- set pending = behavioral_analytics.duckdb__pending_raw_files(root) -%}
    {%- set every_file = behavioral_analytics.duckdb__raw_file_paths(root) -%}
    {%- do behavioral_analytics.duckdb__require_event_files(root, every_file) -%}
    {%- set unreadable = behavioral_analytics.duckdb__probe_raw_files(
        every_file if pending is none else pending
    ) -%}
    {%- if unreadable | length == 0 -%}
        {%- set all_files = behavioral_analytics.duckdb__raw_file_sources(root, none) -%}
        {%- set pending_files = all_files if pending is none
            else behavioral_analytics.duckdb__raw_file_sources(root, pending) -%}
    {%- else -%}
        {%- set unreadable_paths = unreadable | map(attribute=0) | list -%}
        {%- set readable = every_file | reject('in', unreadable_paths) | list -%}
        {%- set all_files = behavioral_analytics.duckdb__raw_file_sources(root, readable) -%}
        {%- set pending_files = all_files if pending is none
            else behavioral_analytics.duckdb__raw_file_sources(root, pending | reject('in', unreadable_paths) | list) -%}
        {%- for row in unreadable -%}
            {%- do log("behavioral_analytics: WARNING unreadable raw file '" ~ row[0] ~ "' (" ~ row[2] ~ " bytes): " ~ row[1] ~ "; it is quarantined (stg_tracker__files_quarantine), every other file loads", info=true) -%}
        {%- endfor -%}
    {%- endif -%}
    create schema if not exists {{ schema }};
    create or replace view {{ schema }}.event_lines as
    {{ behavioral_analytics.duckdb__select_raw_lines(root, all_files, true, false) }};
    create or replace view {{ schema }}.event_lines_pending as
    {{ behavioral_analytics.duckdb__select_raw_lines(root, pending_files, false, true) }};
    create or replace table {{ schema }}.unreadable_files as
    {{ behavioral_analytics.duckdb__select_unreadable_files(root, unreadable) }};
    {%- set files -%}
        select
            file as file_path,
            substr(file, {{ root | length + 2 }}) as file_name,
            {{ behavioral_analytics.raw_file_format('file') }} as file_format,
            try_cast(regexp_extract(file, 'received_date=(\d{4}-\d{2}-\d{2})', 1) as date) as received_date,
            {{ behavioral_analytics.in_list('file', unreadable | map(attribute=0) | list) }} as is_unreadable
        from glob('{{ root }}/**')
        where {{ behavioral_analytics.duckdb__raw_file_filter('file') }}
    {%- endset %}
    {{ behavioral_analytics.event_files_statements(
        schema, files, none if pending is none else behavioral_analytics.in_list('files.file_path', pending)
    ) | join(';\n') }}
{% endmacro %}


{% macro duckdb__raw_file_filter(column) -%}
    ({{ column }} like '%.jsonl' or {{ column }} like '%.jsonl.gz' or {{ column }} like '%.parquet' or {{ column }} like '%.csv')
{%- endmacro %}


{% macro duckdb__raw_file_paths(root) %}
    {#- Every raw events file under the folder, sorted. -#}
    {%- set query -%}
        select file from glob('{{ root }}/**')
        where {{ behavioral_analytics.duckdb__raw_file_filter('file') }}
        order by file
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{% macro duckdb__probe_raw_files(paths) %}
    {#- The files among these that cannot be read at all: [path, error, size]. -#}
    {%- if paths | length == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select
            files.file_path,
            behavior_probe_raw_file(files.file_path) as file_error,
            behavior_file_size(files.file_path) as file_size_bytes
        from (
            values {% for path in paths %}('{{ path | replace("'", "''") }}'){{ ', ' if not loop.last }}{% endfor %}
        ) as files (file_path)
    {%- endset -%}
    {%- set unreadable = [] -%}
    {%- for row in run_query(query).rows if row[1] is not none -%}
        {%- do unreadable.append([row[0], row[1], row[2]]) -%}
    {%- endfor -%}
    {{ return(unreadable | sort(attribute=0)) }}
{% endmacro %}


{% macro duckdb__select_unreadable_files(root, unreadable) %}
    {#- One row per file that cannot be read at all. -#}
    {%- if unreadable | length == 0 %}
    select
        cast(null as varchar) as file_path,
        cast(null as varchar) as file_name,
        cast(null as varchar) as file_format,
        cast(null as date) as received_date,
        cast(null as bigint) as file_size_bytes,
        cast(null as varchar) as file_error
    where false
    {%- else %}
    select
        files.file_path,
        substr(files.file_path, {{ root | length + 2 }}) as file_name,
        case
            when files.file_path like '%.parquet' then 'parquet'
            when files.file_path like '%.csv' then 'csv'
            else 'jsonl'
        end as file_format,
        try_cast(regexp_extract(files.file_path, 'received_date=(\d{4}-\d{2}-\d{2})', 1) as date) as received_date,
        cast(files.file_size_bytes as bigint) as file_size_bytes,
        files.file_error
    from (
        values {% for row in unreadable %}('{{ row[0] | replace("'", "''") }}', {{ row[2] if row[2] is not none else 'null' }}, '{{ row[1] | replace("'", "''") }}'){{ ', ' if not loop.last }}{% endfor %}
    ) as files (file_path, file_size_bytes, file_error)
    {%- endif %}
{% endmacro %}


{% macro duckdb__pending_raw_files(root) %}
    {#- The files (paths) under root this run loads, or none for every file. -#}
    {%- set candidates -%}
        select
            file as pending,
            substr(file, {{ root | length + 2 }}) as file_name,
            try_cast(regexp_extract(file, 'received_date=(\d{4}-\d{2}-\d{2})', 1) as date) as received_date
        from glob('{{ root }}/**')
        where {{ behavioral_analytics.duckdb__raw_file_filter('file') }}
    {%- endset -%}
    {{ return(behavioral_analytics.pending_raw_files_among(candidates)) }}
{% endmacro %}


{% macro duckdb__raw_file_sources(root, files) %}
    {#- What each reader reads: the folder's globs (files is none) or an
        explicit list of paths. Returns a dict format -> SQL path argument,
        only for the formats that have files. -#}
    {%- set sources = {} -%}
    {%- if files is none -%}
        {%- set counts = run_query(behavioral_analytics.duckdb__count_raw_files(root)).rows[0] -%}
        {%- if counts['jsonl_files'] > 0 -%}{%- do sources.update({'jsonl': "'" ~ root ~ "/**/*.jsonl'"}) -%}{%- endif -%}
        {%- if counts['jsonl_gz_files'] > 0 -%}{%- do sources.update({'jsonl_gz': "'" ~ root ~ "/**/*.jsonl.gz'"}) -%}{%- endif -%}
        {%- if counts['parquet_files'] > 0 -%}{%- do sources.update({'parquet': "'" ~ root ~ "/**/*.parquet'"}) -%}{%- endif -%}
        {%- if counts['csv_files'] > 0 -%}{%- do sources.update({'csv': "'" ~ root ~ "/**/*.csv'"}) -%}{%- endif -%}
    {%- else -%}
        {%- for kind, suffix in [('jsonl_gz', '.jsonl.gz'), ('jsonl', '.jsonl'), ('parquet', '.parquet'), ('csv', '.csv')] -%}
            {%- set chosen = [] -%}
            {%- for file in files if file.endswith(suffix) -%}
                {%- do chosen.append("'" ~ file | replace("'", "''") ~ "'") -%}
            {%- endfor -%}
            {%- if chosen | length > 0 -%}
                {%- do sources.update({kind: '[' ~ chosen | join(', ') ~ ']'}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(sources) }}
{% endmacro %}


{% macro duckdb__select_raw_lines(root, sources, warn_when_empty, typed) %}
    {#- One row per line (JSONL) or row (Parquet, CSV). With `typed` (the
        pending lines, which staging reads), Parquet and CSV rows come with
        their columns read as typed (duckdb__typed_row_values) and raw_line
        null: staging renders the row as JSON text for a bad row only. Without
        it (event_lines: every file, read by people and by the equivalence
        tests), every row is rendered, as `behavior load` renders it. -#}
    {%- set selects = [] -%}
    {%- set has_jsonl = 'jsonl' in sources or 'jsonl_gz' in sources -%}
    {%- set typed_formats = {} -%}
    {%- if typed -%}
        {%- for kind in ['parquet', 'csv'] if kind in sources -%}
            {%- do typed_formats.update({kind: behavioral_analytics.duckdb__typed_raw_columns(kind, sources[kind])}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if has_jsonl -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_jsonl_lines(typed, typed_formats)) -%}
    {%- endif -%}
    {%- if 'parquet' in sources -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_parquet_rows(sources['parquet'], typed, typed_formats)) -%}
    {%- endif -%}
    {%- if 'csv' in sources -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_csv_rows(sources['csv'], typed, typed_formats)) -%}
    {%- endif -%}
    {%- if selects | length == 0 -%}
        {%- if warn_when_empty -%}
            {%- do log("behavioral_analytics: no event files (.jsonl, .jsonl.gz, .parquet, .csv) under '" ~ root ~ "'; set BEHAVIOR_EVENTS_PATH or the var behavior__events_path. The raw relation is empty.", info=true) -%}
        {%- endif -%}
        {%- do selects.append(behavioral_analytics.duckdb__select_no_lines(typed)) -%}
    {%- endif -%}
    with
    {% if has_jsonl -%}
    {{ behavioral_analytics.duckdb__jsonl_files_cte(sources.get('jsonl'), sources.get('jsonl_gz')) }}
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
        lines.raw_line,
        lines.encoding_error
        {%- if typed -%},
        {% for column in behavioral_analytics.duckdb__typed_row_column_names() -%}
        lines.{{ column }}{{ ',' if not loop.last }}
        {% endfor -%}
        {%- endif %}
    from lines
{% endmacro %}


{% macro events_root() %}
    {#- The events folder without a trailing slash: the var
        behavior__events_path, else $BEHAVIOR_EVENTS_PATH, else data/events; a
        relative path is relative to the project (--project-dir), not to the
        folder dbt runs in. -#}
    {%- set root = (var('behavior__events_path') | trim) or (env_var('BEHAVIOR_EVENTS_PATH', 'data/events') | trim) -%}
    {%- if root | length > 1 and root.endswith('/') -%}
        {%- set root = root[:-1] -%}
    {%- endif -%}
    {%- set project_dir = (invocation_args_dict or {}).get('project_dir') or '' -%}
    {%- if root and not root.startswith('/') and project_dir and project_dir != '.' -%}
        {%- set root = project_dir.rstrip('/') ~ '/' ~ root -%}
    {%- endif -%}
    {{ return(root) }}
{% endmacro %}


{% macro duckdb__require_event_files(root, files) %}
    {#- No event file at all under the events folder stops the build, naming
        the folder (a missing folder, a typo in BEHAVIOR_EVENTS_PATH), unless
        `behavior__allow_no_event_files` says an empty build is meant. -#}
    {#- Compiling, parsing, listing and `dbt docs generate` read no line: they
        do not need the events (as they do not need the PII salt). -#}
    {%- set reads_lines = flags.WHICH not in ['compile', 'generate', 'docs', 'parse', 'list', 'ls'] -%}
    {%- if files | length == 0 and reads_lines and not var('behavior__allow_no_event_files') -%}
        {%- set exists = run_query("select behavior_path_exists('" ~ root | replace("'", "''") ~ "')").columns[0].values()[0] -%}
        {{ exceptions.raise_compiler_error(
            "behavioral_analytics: no event files (.jsonl, .jsonl.gz, .parquet, .csv) under '"
            ~ root ~ "'" ~ ("" if exists else " (the folder does not exist)")
            ~ ". Set BEHAVIOR_EVENTS_PATH (or the var behavior__events_path) to the folder of"
            ~ " received_date=YYYY-MM-DD/ subfolders, or pass --vars"
            ~ " '{behavior__allow_no_event_files: true}' to build empty tables on purpose."
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro duckdb__count_raw_files(root) %}
    select
        count(*) filter (where file like '%.jsonl') as jsonl_files,
        count(*) filter (where file like '%.jsonl.gz') as jsonl_gz_files,
        count(*) filter (where file like '%.parquet') as parquet_files,
        count(*) filter (where file like '%.csv') as csv_files
    from glob('{{ root }}/**')
{% endmacro %}


{% macro duckdb__select_jsonl_lines(typed, typed_formats) %}
    {#- A file that is valid UTF-8 (nearly all) is split in SQL; one that is
        not goes through behavior_split_undecodable, so that each of its lines
        is decoded on its own and a bad byte makes one bad line
        (encoding_error set). -#}
        select
            split_lines.file_path,
            'jsonl' as file_format,
            split_lines.line_number,
            -- CRLF files: the carriage return is not part of the line (rtrim
            -- copies every line, so only the lines that end with one pay it)
            case
                when ends_with(split_lines.raw_line, chr(13)) then rtrim(split_lines.raw_line, chr(13))
                else split_lines.raw_line
            end as raw_line,
            split_lines.encoding_error
            {%- if typed %},
            {{ behavioral_analytics.duckdb__untyped_row_values(typed_formats) }}
            {%- endif %}
        from (
            select
                files.file_path,
                unnest(files.lines) as raw_line,
                unnest(files.bad_bytes) as encoding_error,
                generate_subscripts(files.lines, 1) as line_number,
                len(files.lines) as split_count
            from jsonl_files as files
        ) as split_lines
        -- the text after a file's final newline is not a line
        where not (split_lines.line_number = split_lines.split_count and split_lines.raw_line = '')
{% endmacro %}


{% macro duckdb__jsonl_files_cte(plain_files, gzip_files) %}
    {#- read_text cannot decompress and stops at the first byte that is not
        UTF-8: files are read as bytes (read_blob), .gz ones decompressed by
        behavior_gunzip of the project's dbt-duckdb plugin. A UTF-8 byte-order
        mark at the start of a file is dropped. The split is materialized so
        that each file is read and decompressed once. -#}
    jsonl_blobs as (
        {%- if plain_files %}
        select filename as file_path, content
        from read_blob({{ plain_files }})
        {%- endif %}
        {%- if plain_files and gzip_files %}
        union all
        {%- endif %}
        {%- if gzip_files %}
        select filename as file_path, behavior_gunzip(content) as content
        from read_blob({{ gzip_files }})
        {%- endif %}
    ),
    jsonl_decoded as (
        select
            jsonl_blobs.file_path,
            jsonl_blobs.content,
            try(decode(jsonl_blobs.content)) as content_text
        from jsonl_blobs
    ),
    jsonl_split as (
        select
            jsonl_decoded.file_path,
            behavior_split_undecodable(
                case when jsonl_decoded.content_text is null then jsonl_decoded.content end
            ) as undecodable,
            string_split(
                case
                    when starts_with(jsonl_decoded.content_text, chr(65279)) then substr(jsonl_decoded.content_text, 2)
                    else jsonl_decoded.content_text
                end,
                chr(10)
            ) as decoded_lines
        from jsonl_decoded
    ),
    {#- one list of lines per file, so the split below does not copy it
        (a coalesce per reference doubles the split's time) -#}
    jsonl_files as materialized (
        select
            jsonl_split.file_path,
            coalesce(jsonl_split.undecodable.lines, jsonl_split.decoded_lines) as lines,
            jsonl_split.undecodable.bad_bytes as bad_bytes
        from jsonl_split
    ),
{% endmacro %}


{% macro duckdb__select_parquet_rows(files, typed, typed_formats) %}
    {#- Untyped: each row becomes its JSON text, so that one parser validates
        every format. Typed: its columns as read, raw_line null (staging
        renders it for a bad row only). -#}
        select
            parquet_rows.filename as file_path,
            'parquet' as file_format,
            parquet_rows.file_row_number + 1 as line_number,
            {% if typed -%}
            cast(null as varchar) as raw_line,
            {%- else -%}
            {{ behavioral_analytics.duckdb__rendered_row('parquet', 'parquet_rows') }} as raw_line,
            {%- endif %}
            cast(null as varchar) as encoding_error
            {%- if typed %},
            {{ behavioral_analytics.duckdb__typed_row_values('parquet_rows', typed_formats['parquet']) }},
            parquet_rows as parquet_row,
            {{ behavioral_analytics.duckdb__no_row('csv', typed_formats) }} as csv_row
            {%- endif %}
        from read_parquet(
            {{ files }},
            filename = true, file_row_number = true, union_by_name = true, hive_partitioning = false
        ) as parquet_rows
{% endmacro %}


{% macro duckdb__select_csv_rows(files, typed, typed_formats) %}
    {#- line_number is the CSV line: the header is line 1. Typed or not, as
        duckdb__select_parquet_rows. -#}
        select
            csv_rows.filename as file_path,
            'csv' as file_format,
            row_number() over (partition by csv_rows.filename order by csv_rows.ordinality) + 1 as line_number,
            {% if typed -%}
            cast(null as varchar) as raw_line,
            {%- else -%}
            {{ behavioral_analytics.duckdb__rendered_row('csv', 'csv_rows') }} as raw_line,
            {%- endif %}
            cast(null as varchar) as encoding_error
            {%- if typed %},
            {{ behavioral_analytics.duckdb__typed_row_values('csv_rows', typed_formats['csv']) }},
            {{ behavioral_analytics.duckdb__no_row('parquet', typed_formats) }} as parquet_row,
            csv_rows as csv_row
            {%- endif %}
        from (
            select *
            from read_csv(
                {{ files }},
                header = true, all_varchar = true, filename = true, union_by_name = true,
                hive_partitioning = false
            ) with ordinality
        ) as csv_rows
{% endmacro %}


{% macro duckdb__select_no_lines(typed) %}
        select
            cast(null as varchar) as file_path,
            cast(null as varchar) as file_format,
            cast(null as bigint) as line_number,
            cast(null as varchar) as raw_line,
            cast(null as varchar) as encoding_error
            {%- if typed %},
            {{ behavioral_analytics.duckdb__untyped_row_values({}) }}
            {%- endif %}
        where false
{% endmacro %}


{% macro duckdb__rendered_row(file_format, row) -%}
    {#- A Parquet or CSV row (the reader's row as a struct, with its filename
        and row number or ordinality) as JSON text without those two: the
        raw_line of the row. `behavior load` renders with the same expression
        (load/lines.py). -#}
    {%- if file_format == 'parquet' -%}
    json_merge_patch(to_json({{ row }}), '{"filename": null, "file_row_number": null}')::varchar
    {%- else -%}
    json_merge_patch(to_json({{ row }}), '{"filename": null, "ordinality": null}')::varchar
    {%- endif -%}
{%- endmacro %}


{#
    The typed path (Parquet and CSV on DuckDB). Each row gives staging what
    parsing its JSON text would give, read from the typed columns:
    row_<field>_text for the scalar fields (the JSON string unquoted, any
    other value as its JSON text), row_properties and row_context (the
    object, or a JSON string holding one, as JSON), row_field_signature (the
    row's shape, as duckdb__json_signature writes it), and the row itself as
    a struct (parquet_row, csv_row) for staging to render a bad row.
#}

{% macro duckdb__typed_row_fields() %}
    {{ return(['event_id', 'event_name', 'event_ts', 'sent_at', 'received_at',
        'anonymous_id', 'user_id', 'platform', 'schema_version']) }}
{% endmacro %}


{% macro duckdb__typed_row_column_names() %}
    {%- set names = [] -%}
    {%- for field in behavioral_analytics.duckdb__typed_row_fields() -%}
        {%- do names.append('row_' ~ field ~ '_text') -%}
    {%- endfor -%}
    {%- do names.extend(['row_properties', 'row_context', 'row_field_signature', 'parquet_row', 'csv_row']) -%}
    {{ return(names) }}
{% endmacro %}


{% macro duckdb__typed_raw_columns(file_format, files) %}
    {#- The columns the reader finds in these files (one union_by_name scan,
        as the relation reads them): [name, DuckDB type] in order. -#}
    {%- set query -%}
        describe select *
        from
        {%- if file_format == 'parquet' %}
            read_parquet({{ files }}, union_by_name = true, hive_partitioning = false)
        {%- else %}
            read_csv({{ files }}, header = true, all_varchar = true, union_by_name = true, hive_partitioning = false)
        {%- endif %}
    {%- endset -%}
    {%- set columns = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do columns.append([row[0], row[1]]) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{% macro duckdb__no_row(file_format, typed_formats) -%}
    {#- The row struct of a format in a row of another format: null; a typed
        null when no file of that format is read, so the column has a type. -#}
    {%- if file_format in typed_formats -%}
        null
    {%- else -%}
        cast(null as struct(absent boolean))
    {%- endif -%}
{%- endmacro %}


{% macro duckdb__untyped_row_values(typed_formats) -%}
    {#- The typed columns of a JSONL line: null (staging parses its text). -#}
    {%- for field in behavioral_analytics.duckdb__typed_row_fields() -%}
            cast(null as varchar) as row_{{ field }}_text,
    {% endfor -%}
            cast(null as json) as row_properties,
            cast(null as json) as row_context,
            cast(null as varchar) as row_field_signature,
            {{ behavioral_analytics.duckdb__no_row('parquet', typed_formats) }} as parquet_row,
            {{ behavioral_analytics.duckdb__no_row('csv', typed_formats) }} as csv_row
{%- endmacro %}


{% macro duckdb__typed_row_values(row, columns) -%}
    {#- The typed columns of a row of the reader `row` with these columns
        ([name, type], duckdb__typed_raw_columns): what JSON parsing of the
        rendered row (duckdb__rendered_row) would give, without rendering. -#}
    {%- set types = {} -%}
    {%- for column in columns -%}
        {%- do types.update({column[0]: column[1]}) -%}
    {%- endfor -%}
    {%- for field in behavioral_analytics.duckdb__typed_row_fields() -%}
            {% if field in types -%}
            {{ behavioral_analytics.duckdb__typed_value_text(behavioral_analytics.duckdb__row_column(row, field), types[field]) }}
            {%- else -%}
            cast(null as varchar)
            {%- endif %} as row_{{ field }}_text,
    {% endfor -%}
    {%- for field in ['properties', 'context'] %}
            {% set column = behavioral_analytics.duckdb__row_column(row, field) -%}
            {%- if types.get(field) == 'VARCHAR' -%}
            case when {{ behavioral_analytics.is_json_object(column) }} then cast({{ column }} as json) end
            {%- elif field in types -%}
            {{ behavioral_analytics.json_object_value('to_json(' ~ column ~ ')') }}
            {%- else -%}
            cast(null as json)
            {%- endif %} as row_{{ field }},
    {%- endfor %}
            -- the shape: the keys (one list for every row of the read), then a type character per value
            {% if columns | length == 0 -%}
            '[] '
            {%- else -%}
            to_json([{% for column in columns %}'{{ column[0] | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %}]::varchar[]) || ' '
            {%- for column in columns %}
                || {{ behavioral_analytics.duckdb__typed_value_code(behavioral_analytics.duckdb__row_column(row, column[0]), column[1]) }}
            {%- endfor -%}
            {%- endif %} as row_field_signature
{%- endmacro %}


{% macro duckdb__row_column(row, name) -%}
    {{ row }}."{{ name | replace('"', '""') }}"
{%- endmacro %}


{% macro duckdb__integer_types() %}
    {{ return(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']) }}
{% endmacro %}


{% macro duckdb__typed_value_text(column, data_type) -%}
    {#- What json_extract_string gives for the value rendered as JSON: a
        string as it is, an integer's digits, any other type through its JSON
        text (to_json of one value, not of the row). -#}
    {%- if data_type == 'VARCHAR' -%}
        {{ column }}
    {%- elif data_type in behavioral_analytics.duckdb__integer_types() -%}
        cast({{ column }} as varchar)
    {%- else -%}
        json_extract_string(to_json({{ column }}), '$')
    {%- endif -%}
{%- endmacro %}


{% macro duckdb__typed_value_code(column, data_type) -%}
    {#- The value's character in duckdb__json_signature: the first of its JSON text. -#}
    {%- if data_type == 'VARCHAR' -%}
        (case when {{ column }} is null then 'n' else '"' end)
    {%- elif data_type == 'BOOLEAN' -%}
        (case when {{ column }} is null then 'n' when {{ column }} then 't' else 'f' end)
    {%- elif data_type in behavioral_analytics.duckdb__integer_types() -%}
        coalesce(left(cast({{ column }} as varchar), 1), 'n')
    {%- else -%}
        coalesce(left(cast(to_json({{ column }}) as varchar), 1), 'n')
    {%- endif -%}
{%- endmacro %}
