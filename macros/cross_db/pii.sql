{#- PII minimisation. The salt is a secret: it comes from the environment
    variable BEHAVIOR_PII_SALT and never appears in compiled SQL (DuckDB: the
    project's dbt-duckdb plugin puts it in the session variable
    behavior_pii_salt; PostgreSQL: the setting behavior.pii_salt, set by the
    profile's connection options; Spark: the session setting
    spark.behavior.pii_salt, set by the profile's server_side_parameters). -#}

{% macro require_pii_salt() -%}
    {#- Fail a command that runs SQL, naming the model, when the salt is
        missing. Compiling, parsing, listing and `dbt docs generate` run no
        hash, so they do not need the secret. A unit test names the model it
        tests. -#}
    {%- set runs_sql = flags.WHICH not in ['compile', 'generate', 'docs', 'parse', 'list', 'ls'] -%}
    {%- if execute and runs_sql and not behavioral_analytics.pii_salt_is_set() -%}
        {%- set tested = model.tested_node_unique_id if model.tested_node_unique_id is defined else none -%}
        {%- set subject = "model '" ~ (tested.split('.')[-1] if tested else model.name) ~ "'"
            ~ (" (unit test '" ~ model.name ~ "')" if tested else "") -%}
        {{ exceptions.raise_compiler_error(
            "BEHAVIOR_PII_SALT is not set (nor a salt in $BEHAVIOR_PII_SALT_FILE or ~/.config/behavioral-analytics/pii_salt): " ~ subject ~ " pseudonymises IP "
            ~ "addresses with a salted hash and needs a secret salt. Export "
            ~ "BEHAVIOR_PII_SALT (a long random string, kept outside the repository, the "
            ~ "same for every build of this warehouse) and run again."
            ~ (" On PostgreSQL the salt is the session setting behavior.pii_salt: export PGOPTIONS=\"-c behavior.pii_salt=$BEHAVIOR_PII_SALT\"." if target.type == 'postgres' else "")
        ) }}
    {%- endif -%}
{%- endmacro %}


{% macro pii_salt_is_set() %}
    {{ return(adapter.dispatch('pii_salt_is_set', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__pii_salt_is_set() %}
    {{ return(env_var('BEHAVIOR_PII_SALT', '') | trim != '') }}
{% endmacro %}

{% macro duckdb__pii_salt_is_set() %}
    {#- DuckDB: the plugin read the environment or the secrets file. -#}
    {{ return(run_query("select getvariable('behavior_pii_salt') is not null").columns[0].values()[0]) }}
{% endmacro %}

{% macro spark__pii_salt_is_set() %}
    {#- Spark: the session setting spark.behavior.pii_salt, substituted as the hash
        reads it. Spark substitutes '*********(redacted)' for a value its
        spark.redaction.regex matches: refused, or every IP would share one hash. -#}
    {%- set salt_text = run_query("select '${spark.behavior.pii_salt}'").columns[0].values()[0] -%}
    {%- if '(redacted)' in salt_text -%}
        {{ exceptions.raise_compiler_error(
            "BEHAVIOR_PII_SALT reaches Spark redacted (it matches spark.redaction.regex, e.g. it "
            ~ "contains 'secret' or 'token'): pick another salt or narrow spark.redaction.regex "
            ~ "in the profile's server_side_parameters."
        ) }}
    {%- endif -%}
    {{ return(salt_text | trim != '' and '${' not in salt_text) }}
{% endmacro %}

{% macro postgres__pii_salt_is_set() %}
    {#- PostgreSQL: the session setting behavior.pii_salt (PGOPTIONS), what the hash reads. -#}
    {{ return(run_query("select coalesce(current_setting('behavior.pii_salt', true), '') <> ''").columns[0].values()[0]) }}
{% endmacro %}


{% macro check_pii_salt_fingerprint() %}
    {#- On-run-start: a warehouse records a fingerprint of its salt (never the
        salt: the first 16 hex digits of SHA-256 of a fixed prefix and the salt)
        in <behavior__raw_schema>.pii_salt_fingerprint on its first build. A
        later build with another salt stops, since its pseudonyms would not
        join the ones already written; --full-refresh rebuilds everything with
        the new salt and records it. -#}
    {{ return(adapter.dispatch('check_pii_salt_fingerprint', 'behavioral_analytics')()) }}
{% endmacro %}

{% macro default__check_pii_salt_fingerprint() %}
    {#- Other engines: not recorded yet (the salt is a connection setting). -#}
    select 1
{% endmacro %}

{% macro duckdb__check_pii_salt_fingerprint() %}
    {%- if not execute or flags.WHICH not in ['run', 'build'] or not behavioral_analytics.pii_salt_is_set() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set schema = var('behavior__raw_schema') -%}
    {%- set current = run_query(
        "select left(sha256('behavioral_analytics salt fingerprint|' || getvariable('behavior_pii_salt')), 16)"
    ).columns[0].values()[0] -%}
    {%- set stored = adapter.get_relation(database=target.database, schema=schema, identifier='pii_salt_fingerprint') -%}
    {%- if stored is not none and not flags.FULL_REFRESH -%}
        {%- set recorded = run_query("select fingerprint, recorded_at from " ~ stored) -%}
        {%- if recorded.rows | length > 0 and recorded.rows[0][0] != current -%}
            {{ exceptions.raise_compiler_error(
                "behavioral_analytics: this warehouse (" ~ target.path ~ ") was built with another PII salt "
                ~ "(fingerprint " ~ recorded.rows[0][0] ~ ", recorded " ~ recorded.rows[0][1] ~ "; this build's: "
                ~ current ~ "). Its pseudonymised IPs would not join the ones already written. Use the "
                ~ "salt it was built with (BEHAVIOR_PII_SALT or the secrets file), or rebuild everything "
                ~ "with the new one: dbt build --full-refresh."
            ) }}
        {%- endif -%}
        {%- if recorded.rows | length > 0 -%}
            {{ return('select 1') }}
        {%- endif -%}
    {%- endif -%}
    {#- run and committed here: the hook's own statement would be rolled back
        with the transaction the queries above opened -#}
    {%- call statement('record_pii_salt_fingerprint') -%}
        create schema if not exists {{ schema }};
        create or replace table {{ schema }}.pii_salt_fingerprint as
        select '{{ current }}' as fingerprint, current_timestamp as recorded_at
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return('select 1') }}
{% endmacro %}


{% macro salted_hash(expression) %}
    {#- A salted SHA-256 (hex) of a text, null for null: a pseudonym that
        cannot be reversed without the salt. -#}
    {{- behavioral_analytics.require_pii_salt() -}}
    {{ return(adapter.dispatch('salted_hash', 'behavioral_analytics')(expression)) }}
{% endmacro %}

{% macro default__salted_hash(expression) -%}
    encode(sha256(convert_to(current_setting('behavior.pii_salt') || '|' || {{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro duckdb__salted_hash(expression) -%}
    sha256(getvariable('behavior_pii_salt') || '|' || {{ expression }})
{%- endmacro %}

{% macro spark__salted_hash(expression) -%}
    {#- Spark substitutes the session setting (profiles.yml) into the query: not in the compiled SQL. -#}
    sha2(concat('${spark.behavior.pii_salt}', '|', {{ expression }}), 256)
{%- endmacro %}


{% macro ip_network(ip_address) -%}
    {#- The network an IP address belongs to: /24 for IPv4 (a.b.c.0/24),
        /48 for IPv6 (the first three groups). Null when it is neither. -#}
    case
        when {{ behavioral_analytics.regex_matches(ip_address, '[0-9]{1,3}(\\.[0-9]{1,3}){3}') }}
            then {{ behavioral_analytics.regex_extract(ip_address, '^([0-9]+\\.[0-9]+\\.[0-9]+)\\.') }} || '.0/24'
        when {{ behavioral_analytics.regex_matches(ip_address, '[0-9a-fA-F:]*:[0-9a-fA-F:.]*') }}
            then lower({{ behavioral_analytics.regex_extract(ip_address, '^([0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*)') }}) || '::/48'
    end
{%- endmacro %}


{% macro regex_extract(text_column, pattern) %}
    {#- The first capture group of the pattern in the text, null if no match. -#}
    {{ return(adapter.dispatch('regex_extract', 'behavioral_analytics')(text_column, pattern)) }}
{% endmacro %}

{% macro default__regex_extract(text_column, pattern) -%}
    substring({{ text_column }} from '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regex_extract(text_column, pattern) -%}
    nullif(regexp_extract({{ text_column }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro spark__regex_extract(text_column, pattern) -%}
    nullif(regexp_extract({{ text_column }}, '{{ pattern }}', 1), '')
{%- endmacro %}


{% macro json_without_keys(json_column, keys) %}
    {#- The JSON object without the given top-level keys (PII property keys). -#}
    {{ return(adapter.dispatch('json_without_keys', 'behavioral_analytics')(json_column, keys)) }}
{% endmacro %}

{% macro default__json_without_keys(json_column, keys) -%}
    {%- if keys | length == 0 -%}
        {{ json_column }}
    {%- else -%}
        ({{ json_column }}::jsonb - array[{% for key in keys %}'{{ key }}'{{ ", " if not loop.last }}{% endfor %}])
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_without_keys(json_column, keys) -%}
    {#- Spark: the object as a map of variants, filtered, written back as JSON text. -#}
    {%- if keys | length == 0 -%}
        {{ json_column }}
    {%- else -%}
        to_json(map_filter(from_json({{ json_column }}, 'map<string, variant>'),
            (property_key, property_value) -> not {{ behavioral_analytics.in_list('property_key', keys) }}))
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__json_without_keys(json_column, keys) -%}
    {#- A merge patch with null values removes those keys. -#}
    {%- if keys | length == 0 -%}
        {{ json_column }}
    {%- else -%}
        json_merge_patch({{ json_column }}, '{{ "{" }}{% for key in keys %}"{{ key }}":null{{ "," if not loop.last }}{% endfor %}{{ "}" }}')
    {%- endif -%}
{%- endmacro %}
