{{ config(tags=['macro_unit']) }}

-- regex_matches, in_list and the JSON macros on the project's engine.

with

json_cases as (

    select
        '{"a": "x", "n": 1.5, "b": true, "o": {"k": "v"}, "s": "{\"k\": 2}", "z": null}' as object_text

),

failures as (

    select 'regex_matches accepts' as case_name
    where not {{ behavioral_analytics.regex_matches("'add_to_cart'", '[a-z][a-z0-9_]*') }}

    union all
    select 'regex_matches is anchored'
    where {{ behavioral_analytics.regex_matches("'AddToCart'", '[a-z][a-z0-9_]*') }}
        or {{ behavioral_analytics.regex_matches("'page-view'", '[a-z][a-z0-9_]*') }}

    union all
    select 'in_list'
    where not {{ behavioral_analytics.in_list("'logout'", ['login', 'logout']) }}
        or {{ behavioral_analytics.in_list("'login'", ["o'brien"]) }}
        or {{ behavioral_analytics.in_list("'login'", []) }}

    union all
    select 'is_json_object'
    where not {{ behavioral_analytics.is_json_object("'{\"a\": 1}'") }}
        or {{ behavioral_analytics.is_json_object("'[1, 2]'") }}
        or {{ behavioral_analytics.is_json_object("'not json'") }}
        or {{ behavioral_analytics.is_json_object("''") }}
        or not {{ behavioral_analytics.is_json_object("' \n {\"a\": [1]} '") }}
        or {{ behavioral_analytics.is_json_object("'\"{x\"'") }}
        or {{ behavioral_analytics.is_json_object("'{\"a\": 1'") }}
        or {{ behavioral_analytics.is_json_object("cast(null as " ~ dbt.type_string() ~ ")") }} is null

    union all
    select 'json_text'
    from json_cases
    where {{ behavioral_analytics.json_text('json_cases.object_text', ['a']) }} != 'x'
        or {{ behavioral_analytics.json_text('json_cases.object_text', ['o', 'k']) }} != 'v'
        or {{ behavioral_analytics.json_text('json_cases.object_text', ['missing']) }} is not null

    union all
    select 'json_type_of'
    from json_cases
    where {{ behavioral_analytics.json_type_of('json_cases.object_text', ['a']) }} != 'string'
        or {{ behavioral_analytics.json_type_of('json_cases.object_text', ['n']) }} != 'number'
        or {{ behavioral_analytics.json_type_of('json_cases.object_text', ['b']) }} != 'boolean'
        or {{ behavioral_analytics.json_type_of('json_cases.object_text', ['o']) }} != 'object'
        or {{ behavioral_analytics.json_type_of('json_cases.object_text', ['z']) }} != 'null'
        or {{ behavioral_analytics.json_type_of('json_cases.object_text', ['missing']) }} is not null

    union all
    select 'json_object_at reads objects and JSON strings holding one'
    from json_cases
    where {{ behavioral_analytics.json_text(behavioral_analytics.json_object_at('json_cases.object_text', 'o'), ['k']) }} != 'v'
        or {{ behavioral_analytics.json_text(behavioral_analytics.json_object_at('json_cases.object_text', 's'), ['k']) }} != '2'
        or {{ behavioral_analytics.json_object_at('json_cases.object_text', 'a') }} is not null

)

select * from failures
