{{ config(tags=['macro_unit']) }}

-- utc_offset_minutes reads the offset written in an ISO-8601 text.

with

cases as (

    select '2026-01-05T10:00:00.000+01:00' as timestamp_text, 60 as expected
    union all select '2026-01-05T10:00:00-05:00', -300
    union all select '2026-01-05T10:00:00.5+05:30', 330
    union all select '2026-01-05T10:00:00+0545', 345
    union all select '2026-01-05T10:00:00Z', 0
    union all select '2026-01-05T10:00:00.123z', 0
    union all select '2026-01-05 10:00:00', null
    union all select '2026-01-05', null

),

checked as (

    select
        cases.timestamp_text,
        cases.expected,
        {{ behavioral_analytics.utc_offset_minutes('cases.timestamp_text') }} as actual
    from cases

)

select * from checked
where actual is distinct from expected
