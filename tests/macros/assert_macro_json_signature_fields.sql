{{ config(tags=['macro_unit']) }}

-- json_signature + json_signature_fields: every key with its JSON type.

with

lines as (

    select
        'l1' as line_id,
        {{ behavioral_analytics.json_signature(
            "'{\"s\": \"x\", \"i\": 1, \"d\": 1.5, \"b\": false, \"o\": {\"k\": 1}, \"e\": {}, \"a\": [1], \"z\": null}'"
        ) }} as signature

),

fields as (

    {{ behavioral_analytics.json_signature_fields('lines', 'signature', 'p.', ['line_id']) }}

),

expected as (

    select 'p.s' as field_path, 'string' as json_type
    union all select 'p.i', 'number'
    union all select 'p.d', 'number'
    union all select 'p.b', 'boolean'
    union all select 'p.o', 'object'
    union all select 'p.e', 'object'
    union all select 'p.a', 'array'
    union all select 'p.z', 'null'

),

compared as (

    select
        coalesce(expected.field_path, fields.field_path) as field_path,
        expected.json_type as expected_type,
        fields.json_type as actual_type
    from expected
    full outer join fields
        on expected.field_path = fields.field_path

)

select * from compared
where expected_type is distinct from actual_type
