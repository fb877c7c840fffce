{{ config(tags=['macro_unit']) }}

-- signature_agg: the signature of a set of rows changes when one column
-- changes on every row of the set, the last column included and an even
-- number of rows (DuckDB's hash of several values XORs the last one in: two
-- rows sharing it cancelled it out before the row hash was hashed again),
-- and does not depend on the rows' order; a row's signature depends on
-- which column holds which value (a null or a separator inside a value does
-- not shift the others). Returns the cases that fail.

with

rows_before as (

    select 'g' as group_id, 'e1' as event_id, cast(null as {{ dbt.type_string() }}) as opted_out
    union all select 'g', 'e2', cast(null as {{ dbt.type_string() }})

),

rows_after as (

    select 'g' as group_id, 'e1' as event_id, '2026-01-12' as opted_out
    union all select 'g', 'e2', '2026-01-12'

),

rows_reordered as (

    select 'g' as group_id, 'e2' as event_id, cast(null as {{ dbt.type_string() }}) as opted_out
    union all select 'g', 'e1', cast(null as {{ dbt.type_string() }})

),

-- one row each: the same values with the null in another column, and the
-- same text cut at another place (a separator inside a value)
null_in_second as (

    select 'x' as value_1, cast(null as {{ dbt.type_string() }}) as value_2, 'y' as value_3

),

null_in_third as (

    select 'x' as value_1, 'y' as value_2, cast(null as {{ dbt.type_string() }}) as value_3

),

separator_in_first as (

    select 'a|b' as value_1, 'c' as value_2, 'd' as value_3

),

separator_in_second as (

    select 'a' as value_1, 'b|c' as value_2, 'd' as value_3

),

signatures as (

    select
        (
            select {{ behavioral_analytics.signature_agg(['event_id', 'opted_out'], 'rows_before') }}
            from rows_before
        ) as before_signature,
        (
            select {{ behavioral_analytics.signature_agg(['event_id', 'opted_out'], 'rows_after') }}
            from rows_after
        ) as after_signature,
        (
            select {{ behavioral_analytics.signature_agg(['event_id', 'opted_out'], 'rows_reordered') }}
            from rows_reordered
        ) as reordered_signature,
        {%- for relation in ['null_in_second', 'null_in_third', 'separator_in_first', 'separator_in_second'] %}
        (
            select {{ behavioral_analytics.signature_agg(['value_1', 'value_2', 'value_3'], relation) }}
            from {{ relation }}
        ) as {{ relation }}_signature{{ "," if not loop.last }}
        {%- endfor %}

),

failures as (

    select 'a value shared by two rows went unseen' as failure
    from signatures
    where signatures.before_signature = signatures.after_signature

    union all

    select 'the order of the rows changed the signature' as failure
    from signatures
    where signatures.before_signature != signatures.reordered_signature

    union all

    select 'a null in another column gave the same signature' as failure
    from signatures
    where signatures.null_in_second_signature = signatures.null_in_third_signature

    union all

    select 'the same text cut at another place gave the same signature' as failure
    from signatures
    where signatures.separator_in_first_signature = signatures.separator_in_second_signature

)

select * from failures
