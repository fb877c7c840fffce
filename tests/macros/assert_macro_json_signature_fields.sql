{{ config(tags=['macro_unit']) }}

-- json_signature + json_signature_fields: every key with its JSON type; a key
-- with a space, an empty object (no key), and on DuckDB a signature written
-- by json_structure (warehouses built before the compact signature).

with

lines as (

    select
        'l1' as line_id,
        {{ behavioral_analytics.json_signature(
            "'{\"s\": \"x\", \"i\": 1, \"d\": -1.5, \"b\": false, \"t\": true, \"o\": {\"k\": 1}, \"e\": {}, \"a\": [1], \"z\": null, \"a key\": \"y\"}'"
        ) }} as signature
    union all
    select
        'l2' as line_id,
        {{ behavioral_analytics.json_signature("'{}'") }} as signature
    {%- if target.type == 'duckdb' %}
    union all
    select
        'l3' as line_id,
        '{"s":"VARCHAR","i":"UBIGINT","o":{"k":"BIGINT"},"e":"JSON","a":["BIGINT"],"z":"NULL"}' as signature
    {%- endif %}

),

fields as (

    {{ behavioral_analytics.json_signature_fields('lines', 'signature', 'p.', ['line_id']) }}

),

expected as (

    select 'l1' as line_id, 'p.s' as field_path, 'string' as json_type
    union all select 'l1', 'p.i', 'number'
    union all select 'l1', 'p.d', 'number'
    union all select 'l1', 'p.b', 'boolean'
    union all select 'l1', 'p.t', 'boolean'
    union all select 'l1', 'p.o', 'object'
    union all select 'l1', 'p.e', 'object'
    union all select 'l1', 'p.a', 'array'
    union all select 'l1', 'p.z', 'null'
    union all select 'l1', 'p.a key', 'string'
    {%- if target.type == 'duckdb' %}
    union all select 'l3', 'p.s', 'string'
    union all select 'l3', 'p.i', 'number'
    union all select 'l3', 'p.o', 'object'
    union all select 'l3', 'p.e', 'object'
    union all select 'l3', 'p.a', 'array'
    union all select 'l3', 'p.z', 'null'
    {%- endif %}

),

compared as (

    select
        coalesce(expected.line_id, fields.line_id) as line_id,
        coalesce(expected.field_path, fields.field_path) as field_path,
        expected.json_type as expected_type,
        fields.json_type as actual_type
    from expected
    full outer join fields
        on
            expected.line_id = fields.line_id
            and expected.field_path = fields.field_path

)

select * from compared
where expected_type is distinct from actual_type
