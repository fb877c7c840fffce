{#
    JSON access. Each engine spells it differently; models call only these.
    `path` is a list of keys, e.g. ['context', 'consent', 'analytics'].
#}

{% macro json_text(json_column, path) %}
    {{ return(adapter.dispatch('json_text', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_text(json_column, path) -%}
    ({{ json_column }}::jsonb #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_text(json_column, path) -%}
    json_extract_string({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{% macro spark__json_text(json_column, path) -%}
    get_json_object({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}


{% macro json_value(json_column, path) %}
    {#- The JSON value at `path`, as JSON (null when absent). -#}
    {{ return(adapter.dispatch('json_value', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_value(json_column, path) -%}
    ({{ json_column }}::jsonb #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_value(json_column, path) -%}
    json_extract({{ json_column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{% macro spark__json_value(json_column, path) -%}
    {#- Spark has no JSON type: JSON values are text, read through a variant. -#}
    to_json(variant_get(try_parse_json({{ json_column }}), '$.{{ path | join('.') }}'))
{%- endmacro %}


{% macro json_type_of(json_column, path) %}
    {#- One of 'string', 'number', 'boolean', 'object', 'array', 'null', or
        null when the path is absent. -#}
    {{ return(adapter.dispatch('json_type_of', 'behavioral_analytics')(json_column, path)) }}
{% endmacro %}

{% macro default__json_type_of(json_column, path) -%}
    jsonb_typeof({{ json_column }}::jsonb #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_type_of(json_column, path) -%}
    {#- DuckDB reports SQL type names; map them onto JSON's own. -#}
    case json_type({{ json_column }}, '$.{{ path | join('.') }}')
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'number'
        when 'UBIGINT' then 'number'
        when 'HUGEINT' then 'number'
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
        when 'NULL' then 'null'
    end
{%- endmacro %}

{% macro spark__json_type_of(json_column, path) -%}
    {{ behavioral_analytics.spark__variant_json_type("variant_get(try_parse_json(" ~ json_column ~ "), '$." ~ path | join('.') ~ "')") }}
{%- endmacro %}

{% macro spark__variant_json_type(variant) -%}
    {#- Spark names a variant's type in SQL terms (schema_of_variant, computed once here): map onto JSON's own. -#}
    case coalesce(regexp_extract(schema_of_variant({{ variant }}), '^[A-Z]+', 0), '')
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
        when 'STRING' then 'string'
        when 'BOOLEAN' then 'boolean'
        when 'VOID' then 'null'
        when '' then null
        else 'number'
    end
{%- endmacro %}


{% macro is_json_object(text_column) %}
    {#- True when the text parses as JSON and is an object. -#}
    {{ return(adapter.dispatch('is_json_object', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__is_json_object(text_column) -%}
    {#- PostgreSQL 16+: test the text without raising. -#}
    coalesce(pg_input_is_valid({{ text_column }}, 'jsonb')
        and jsonb_typeof({{ text_column }}::jsonb) = 'object', false)
{%- endmacro %}

{% macro postgres__is_json_object(text_column) -%}
    {#- PostgreSQL 15 has no pg_input_is_valid: the hook's try_jsonb catches the error. -#}
    coalesce(jsonb_typeof(behavior_functions.try_jsonb({{ text_column }})) = 'object', false)
{%- endmacro %}

{% macro duckdb__is_json_object(text_column) -%}
    {#- Valid JSON whose first character is `{` is an object: one parse
        (json_type would parse the text a second time). -#}
    coalesce(json_valid({{ text_column }}) and left(ltrim({{ text_column }}, ' ' || chr(9) || chr(10) || chr(13)), 1) = '{{ '{' }}', false)
{%- endmacro %}

{% macro spark__is_json_object(text_column) -%}
    {#- try_parse_json is null for invalid JSON; an object starts with `{`. -#}
    coalesce(try_parse_json({{ text_column }}) is not null
        and {{ text_column }} rlike '^[ \t\r\n]*[{]', false)
{%- endmacro %}


{% macro parse_json(text_column) %}
    {#- Text known to be valid JSON, as the engine's JSON type. -#}
    {{ return(adapter.dispatch('parse_json', 'behavioral_analytics')(text_column)) }}
{% endmacro %}

{% macro default__parse_json(text_column) -%}
    cast({{ text_column }} as jsonb)
{%- endmacro %}

{% macro duckdb__parse_json(text_column) -%}
    cast({{ text_column }} as json)
{%- endmacro %}

{% macro spark__parse_json(text_column) -%}
    {#- Spark has no JSON type (a variant cannot be stored in every table format): JSON stays text. -#}
    {{ text_column }}
{%- endmacro %}


{% macro json_object_at(json_column, key) %}
    {#- The object at `key`: a JSON object, or a JSON string holding one (as
        Parquet and CSV carry properties and context); else null. -#}
    case
        when {{ behavioral_analytics.json_type_of(json_column, [key]) }} = 'object'
            then {{ behavioral_analytics.json_value(json_column, [key]) }}
        when {{ behavioral_analytics.json_type_of(json_column, [key]) }} = 'string'
            and {{ behavioral_analytics.is_json_object(behavioral_analytics.json_text(json_column, [key])) }}
            then {{ behavioral_analytics.parse_json(behavioral_analytics.json_text(json_column, [key])) }}
    end
{% endmacro %}


{% macro json_signature(json_column) %}
    {#- The shape of a JSON object: its top-level keys with their value types,
        as text in the engine's own format (see the dispatched versions). Lines with the same shape share one signature, so schema drift is
        computed per distinct shape, not per line. Read it with
        json_signature_fields. -#}
    {{ return(adapter.dispatch('json_signature', 'behavioral_analytics')(json_column)) }}
{% endmacro %}

{% macro default__json_signature(json_column) -%}
    (select jsonb_object_agg(signature.key, jsonb_typeof(signature.value))
        from jsonb_each({{ json_column }}::jsonb) as signature)
{%- endmacro %}

{% macro duckdb__json_signature(json_column) -%}
    {#- json_structure merges the structure of every nested value (a third of
        staging's time at 1M lines): the keys as a JSON list, a space, then one
        character per value, the first of its JSON text ('"' string, '{'
        object, '[' array, 't'/'f' boolean, 'n' null, else a number). Two
        parses (keys, values), no nested walk; read by json_signature_fields. -#}
    to_json(json_keys({{ json_column }})) || ' '
        || array_to_string(list_transform(json_extract({{ json_column }}, '$.*'), value -> left(value, 1)), '')
{%- endmacro %}

{% macro spark__json_signature(json_column) -%}
    {#- Spark: a JSON object of each top-level key's JSON type, as PostgreSQL's (map of variants). -#}
    to_json(transform_values(from_json({{ json_column }}, 'map<string, variant>'),
        (signature_key, signature_value) -> {{ behavioral_analytics.spark__variant_json_type('signature_value') }}))
{%- endmacro %}


{% macro json_signature_fields(relation, signature_column, prefix, carried_columns) %}
    {#- One row per key of each signature in `relation`: the `carried_columns`,
        field_path (`prefix` + key) and json_type (string, number, boolean,
        object, array, null). A whole select statement. -#}
    {{ return(adapter.dispatch('json_signature_fields', 'behavioral_analytics')(relation, signature_column, prefix, carried_columns)) }}
{% endmacro %}

{% macro default__json_signature_fields(relation, signature_column, prefix, carried_columns) -%}
    select
        {% for column in carried_columns %}{{ relation }}.{{ column }}, {% endfor %}
        '{{ prefix }}' || signature.key as field_path,
        signature.value #>> '{}' as json_type
    from {{ relation }}
    cross join lateral jsonb_each({{ relation }}.{{ signature_column }}::jsonb) as signature
{%- endmacro %}

{% macro duckdb__json_signature_fields(relation, signature_column, prefix, carried_columns) -%}
    {#- duckdb__json_signature: keys as JSON, a space, one type character per
        key. A signature written by json_structure (a JSON object, warehouses
        built before) is read too: SQL type names, an object or a list. -#}
    select
        {% for column in carried_columns %}keyed.{{ column }}, {% endfor %}
        '{{ prefix }}' || keyed.field_key as field_path,
        case
            when keyed.type_code in ('{{ '{' }}', 'JSON') or left(keyed.type_code, 1) = '{{ '{' }}' then 'object'
            when left(keyed.type_code, 1) = '[' then 'array'
            when keyed.type_code in ('"', 'VARCHAR') then 'string'
            when keyed.type_code in ('t', 'f', 'BOOLEAN') then 'boolean'
            when keyed.type_code in ('n', 'NULL') then 'null'
            else 'number'
        end as json_type
    from (
        select
            split.*,
            unnest(split.field_keys) as field_key,
            unnest(split.type_codes) as type_code
        from (
            select
                {{ relation }}.*,
                case
                    when left({{ relation }}.{{ signature_column }}, 1) = '{{ '{' }}'
                        then json_keys({{ relation }}.{{ signature_column }})
                    else json_extract_string(
                        regexp_extract({{ relation }}.{{ signature_column }}, '^(.*) [^ ]*$', 1), '$[*]'
                    )
                end as field_keys,
                case
                    when left({{ relation }}.{{ signature_column }}, 1) = '{{ '{' }}'
                        then list_transform(
                            json_keys({{ relation }}.{{ signature_column }}),
                            field_key -> json_extract_string(
                                {{ relation }}.{{ signature_column }}, '$."' || field_key || '"'
                            )
                        )
                    else list_filter(
                        string_split(regexp_extract({{ relation }}.{{ signature_column }}, ' ([^ ]*)$', 1), ''),
                        type_code -> type_code != ''
                    )
                end as type_codes
            from {{ relation }}
            where {{ relation }}.{{ signature_column }} is not null
        ) as split
    ) as keyed
{%- endmacro %}

{% macro spark__json_signature_fields(relation, signature_column, prefix, carried_columns) -%}
    {#- Spark has no lateral join on a function: a lateral view explodes the signature's map. -#}
    select
        {% for column in carried_columns %}{{ relation }}.{{ column }}, {% endfor %}
        concat('{{ prefix }}', signature.field_key) as field_path,
        signature.json_type
    from {{ relation }}
    lateral view explode(from_json({{ relation }}.{{ signature_column }}, 'map<string, string>')) signature as field_key, json_type
{%- endmacro %}


{#
    Parse once, read many: `json_parse_paths` reads every path of a JSON
    document in one parse (DuckDB: a list of JSON values; PostgreSQL: the
    document as jsonb), then `json_path_text`, `json_path_value` and
    `json_path_type` read one path of that result without parsing the
    document again. Pass the same `paths` list to all of them.
#}

{% macro json_parse_paths(json_column, paths) %}
    {{ return(adapter.dispatch('json_parse_paths', 'behavioral_analytics')(json_column, paths)) }}
{% endmacro %}

{% macro default__json_parse_paths(json_column, paths) -%}
    ({{ json_column }}::jsonb)
{%- endmacro %}

{% macro duckdb__json_parse_paths(json_column, paths) -%}
    json_extract({{ json_column }}, [{% for path in paths %}'$.{{ path | join('.') }}'{{ ", " if not loop.last }}{% endfor %}])
{%- endmacro %}

{% macro spark__json_parse_paths(json_column, paths) -%}
    {#- One parse into a variant; each path is read from it. -#}
    try_parse_json({{ json_column }})
{%- endmacro %}


{% macro json_path_text(parsed, paths, path) %}
    {#- The value at `path` as text (strings unquoted), null when absent or null. -#}
    {{ return(adapter.dispatch('json_path_text', 'behavioral_analytics')(parsed, paths, path)) }}
{% endmacro %}

{% macro default__json_path_text(parsed, paths, path) -%}
    ({{ parsed }} #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_path_text(parsed, paths, path) -%}
    json_extract_string({{ parsed }}[{{ paths.index(path) + 1 }}], '$')
{%- endmacro %}

{% macro spark__json_path_text(parsed, paths, path) -%}
    variant_get({{ parsed }}, '$.{{ path | join('.') }}', 'string')
{%- endmacro %}


{% macro json_path_value(parsed, paths, path) %}
    {#- The value at `path` as JSON, null when absent. -#}
    {{ return(adapter.dispatch('json_path_value', 'behavioral_analytics')(parsed, paths, path)) }}
{% endmacro %}

{% macro default__json_path_value(parsed, paths, path) -%}
    ({{ parsed }} #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_path_value(parsed, paths, path) -%}
    {{ parsed }}[{{ paths.index(path) + 1 }}]
{%- endmacro %}

{% macro spark__json_path_value(parsed, paths, path) -%}
    {#- JSON values are text on Spark (spark__parse_json). -#}
    to_json(variant_get({{ parsed }}, '$.{{ path | join('.') }}'))
{%- endmacro %}


{% macro json_path_type(parsed, paths, path) %}
    {#- One of 'string', 'number', 'boolean', 'object', 'array', 'null', or
        null when the path is absent. -#}
    {{ return(adapter.dispatch('json_path_type', 'behavioral_analytics')(parsed, paths, path)) }}
{% endmacro %}

{% macro default__json_path_type(parsed, paths, path) -%}
    jsonb_typeof({{ parsed }} #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_path_type(parsed, paths, path) -%}
    case json_type({{ parsed }}[{{ paths.index(path) + 1 }}])
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'number'
        when 'UBIGINT' then 'number'
        when 'HUGEINT' then 'number'
        when 'DOUBLE' then 'number'
        when 'BOOLEAN' then 'boolean'
        when 'OBJECT' then 'object'
        when 'ARRAY' then 'array'
        when 'NULL' then 'null'
    end
{%- endmacro %}

{% macro spark__json_path_type(parsed, paths, path) -%}
    {{ behavioral_analytics.spark__variant_json_type("variant_get(" ~ parsed ~ ", '$." ~ path | join('.') ~ "')") }}
{%- endmacro %}


{% macro json_object_value(json_value) %}
    {#- A JSON value that is an object, or a JSON string holding one (as
        Parquet and CSV carry properties and context), as an object; else null. -#}
    {{ return(adapter.dispatch('json_object_value', 'behavioral_analytics')(json_value)) }}
{% endmacro %}

{% macro default__json_object_value(json_value) -%}
    case
        when jsonb_typeof({{ json_value }}) = 'object' then {{ json_value }}
        when jsonb_typeof({{ json_value }}) = 'string'
            and {{ behavioral_analytics.is_json_object(json_value ~ " #>> '{}'") }}
            then ({{ json_value }} #>> '{}')::jsonb
    end
{%- endmacro %}

{% macro duckdb__json_object_value(json_value) -%}
    case json_type({{ json_value }})
        when 'OBJECT' then {{ json_value }}
        when 'VARCHAR' then
            case when {{ behavioral_analytics.is_json_object("json_extract_string(" ~ json_value ~ ", '$')") }}
                then cast(json_extract_string({{ json_value }}, '$') as json)
            end
    end
{%- endmacro %}

{% macro spark__json_object_value(json_value) -%}
    {#- JSON values are text on Spark: an object as it is, a string holding one unwrapped. -#}
    case {{ behavioral_analytics.spark__variant_json_type('try_parse_json(' ~ json_value ~ ')') }}
        when 'object' then {{ json_value }}
        when 'string' then
            case when {{ behavioral_analytics.is_json_object("variant_get(try_parse_json(" ~ json_value ~ "), '$', 'string')") }}
                then variant_get(try_parse_json({{ json_value }}), '$', 'string')
            end
    end
{%- endmacro %}
