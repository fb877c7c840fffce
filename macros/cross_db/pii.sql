{#- PII minimisation. The salt is a secret: it comes from the environment
    variable BEHAVIOR_PII_SALT and never appears in compiled SQL (DuckDB: the
    project's dbt-duckdb plugin puts it in the session variable
    behavior_pii_salt; PostgreSQL: the setting behavior.pii_salt, set by the
    profile's connection options). -#}

{% macro require_pii_salt() -%}
    {#- Fail the build, naming the model, when the salt is missing. -#}
    {%- if execute and env_var('BEHAVIOR_PII_SALT', '') | trim == '' -%}
        {{ exceptions.raise_compiler_error(
            "BEHAVIOR_PII_SALT is not set: model '" ~ model.name ~ "' pseudonymises IP "
            ~ "addresses with a salted hash and needs a secret salt. Export "
            ~ "BEHAVIOR_PII_SALT (a long random string, kept outside the repository, the "
            ~ "same for every build of this warehouse) and run again."
        ) }}
    {%- endif -%}
{%- endmacro %}


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
    sha2(concat('${behavior.pii_salt}', '|', {{ expression }}), 256)
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

{% macro duckdb__json_without_keys(json_column, keys) -%}
    {#- A merge patch with null values removes those keys. -#}
    {%- if keys | length == 0 -%}
        {{ json_column }}
    {%- else -%}
        json_merge_patch({{ json_column }}, '{{ "{" }}{% for key in keys %}"{{ key }}":null{{ "," if not loop.last }}{% endfor %}{{ "}" }}')
    {%- endif -%}
{%- endmacro %}
