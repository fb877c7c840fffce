-- The state of the per-person increment of int_funnel_persons_measured,
-- built before it: which persons it measures again this run. Like the other
-- touched models, it compares what the model would be computed from now
-- (each person's events in int_events_localized, as a count and a
-- signature) with what its rows were computed from (the same figures, kept
-- on the built rows; its relation, not a ref: a ref would be a cycle). So a
-- person is measured again whenever their events changed, also when a
-- build was killed after fct_events and before the funnel. When the model
-- is built whole this run, or a setting its rows depend on changed
-- (funnel_settings_vars(): the funnels, the reporting time zone, the week
-- start, a fixed as-of date), every person is listed (full_build).

{%- set built_relation = behavioral_analytics.device_increment_built_relation('int_funnel_persons_measured') -%}
{%- set settings_signature = behavioral_analytics.settings_signature(behavioral_analytics.funnel_settings_vars()) %}

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

-- what each person's rows would be measured from now (the same macro the
-- measured model keeps on its rows)
current_persons as (

    {{ behavioral_analytics.funnel_person_signatures('events') }}

),

-- what the built rows were measured from: one row per person with a funnel
-- row (a person without a step-1 event has none); none when built whole
built_persons as (

    {% if built_relation is none -%}
        select
            current_persons.person_id,
            current_persons.person_event_count,
            current_persons.person_events_signature,
            cast(null as {{ dbt.type_string() }}) as settings_signature
        from current_persons
        where 1 = 0
    {%- else -%}
        select
            built.person_id,
            max(built.person_event_count) as person_event_count,
            max(built.person_events_signature) as person_events_signature,
            max(built.settings_signature) as settings_signature
        from {{ built_relation }} as built
        group by built.person_id
    {%- endif %}

),

-- the model is measured whole: built whole this run, or a row measured
-- with other settings
whole as (

    select
        {{ 'true or ' if built_relation is none }}count(*) > 0 as is_whole
    from built_persons
    where
        built_persons.settings_signature is null
        or built_persons.settings_signature != {{ settings_signature }}

),

compared as (

    select
        coalesce(current_persons.person_id, built_persons.person_id) as person_id,
        case
            when current_persons.person_id is null then 'removed'
            when built_persons.person_id is null then 'new'
            when current_persons.person_event_count != built_persons.person_event_count
                or current_persons.person_events_signature != built_persons.person_events_signature
                then 'events_changed'
        end as change_reason
    from current_persons
    full outer join built_persons
        on current_persons.person_id = built_persons.person_id
    -- a person without a funnel row is measured only once they have a step-1 event
    where built_persons.person_id is not null or current_persons.has_entry_event

),

touched as (

    select
        compared.person_id,
        cast(case when whole.is_whole then 'full_build' else compared.change_reason end as {{ dbt.type_string() }})
            as change_reason,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from compared
    cross join whole
    where whole.is_whole or compared.change_reason is not null

)

select * from touched
