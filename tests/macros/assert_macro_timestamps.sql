{{ config(tags=['macro_unit']) }}

-- try_parse_timestamp, derive_event_at and epoch_microseconds, on the engine
-- the project runs on (the dispatched implementation).

with

cases as (

    select
        'skew corrected by sent_at' as case_name,
        '2026-01-05T12:05:00.000+02:00' as event_ts_text,
        '2026-01-05T12:06:00.000+02:00' as sent_at_text,
        '2026-01-05T10:01:00.250Z' as received_at_text,
        '2026-01-05T10:00:00.250Z' as expected_event_at_text
    union all
    select 'no sent_at: event_ts as written', '2026-01-05T05:00:00-05:00', null, '2026-01-05T10:00:02Z', '2026-01-05T10:00:00Z'
    union all
    select 'microseconds kept', '2026-01-05T10:00:00.000001Z', null, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00.000001Z'
    union all
    select 'no offset is UTC', '2026-01-05 10:00:00', null, '2026-01-05 10:00:00', '2026-01-05T10:00:00Z'

),

parsed as (

    select
        cases.case_name,
        {{ behavioral_analytics.try_parse_timestamp('cases.event_ts_text') }} as event_ts,
        {{ behavioral_analytics.try_parse_timestamp('cases.sent_at_text') }} as sent_at,
        {{ behavioral_analytics.try_parse_timestamp('cases.received_at_text') }} as received_at,
        {{ behavioral_analytics.try_parse_timestamp('cases.expected_event_at_text') }} as expected_event_at
    from cases

),

derived as (

    select
        parsed.*,
        {{ behavioral_analytics.derive_event_at('parsed.event_ts', 'parsed.sent_at', 'parsed.received_at') }} as event_at
    from parsed

),

failures as (

    select derived.case_name, 'event_at' as checked
    from derived
    where
        {{ behavioral_analytics.epoch_microseconds('derived.event_at') }}
        is distinct from {{ behavioral_analytics.epoch_microseconds('derived.expected_event_at') }}

    union all

    select 'unparseable text is null' as case_name, 'try_parse_timestamp' as checked
    where {{ behavioral_analytics.try_parse_timestamp("'not a time'") }} is not null

    union all

    select 'epoch of a known instant' as case_name, 'epoch_microseconds' as checked
    where
        {{ behavioral_analytics.epoch_microseconds(behavioral_analytics.try_parse_timestamp("'1970-01-01T00:00:01.000002Z'")) }}
        != 1000002

)

select * from failures
