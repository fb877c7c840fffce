{{ config(tags=['macro_unit']) }}

-- signature_agg: the signature of a set of rows changes when one column
-- changes on every row of the set, the last column included and an even
-- number of rows (DuckDB's hash of several values XORs the last one in: two
-- rows sharing it cancelled it out before the row hash was hashed again),
-- and does not depend on the rows' order. Returns the cases that fail.

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
        ) as reordered_signature

),

failures as (

    select 'a value shared by two rows went unseen' as failure
    from signatures
    where signatures.before_signature = signatures.after_signature

    union all

    select 'the order of the rows changed the signature' as failure
    from signatures
    where signatures.before_signature != signatures.reordered_signature

)

select * from failures
