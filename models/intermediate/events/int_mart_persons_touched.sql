-- The state of the per-person increment of dim_persons: which persons it
-- recomputes this run. A person's row changes when the human events of any of
-- its devices do (int_mart_devices_touched lists those devices: the persons
-- their events belong to now, and those they belonged to in fct_events as
-- built, which this model reads before fct_events is rewritten: fct_events
-- depends on it), when its opt-out moves, when a device is linked to it or
-- unlinked, or when its activity in dim_persons as built is not what it would
-- be now (a build killed after the event marts and before dim_persons).
-- When dim_persons or fct_events is built whole this run, every person is
-- listed (full_build).

{%- set built_events = behavioral_analytics.device_increment_built_relation('fct_events') -%}
{%- set built_persons_relation = behavioral_analytics.device_increment_built_relation('dim_persons') -%}
{%- set is_full_build = built_events is none or built_persons_relation is none %}

with

events_enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_enriched') }}

),

events_attributed as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_attributed') }}

),

devices_linked as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_devices_linked') }}

),

mart_devices_touched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_mart_devices_touched') }}

),

-- the persons of dim_persons now: of human events
human_events as (

    select * from events_enriched
    where {{ behavioral_analytics.person_mart_events('events_enriched') }}

),

-- the activity, opt-out and links dim_persons would hold now
current_activity as (

    select
        human_events.person_id,
        count(*) as event_count,
        min(human_events.event_at) as first_seen_at,
        max(human_events.event_at) as last_seen_at
    from human_events
    group by 1

),

current_opt_outs as (

    select
        events_attributed.person_id,
        min(events_attributed.person_opted_out_at) as opted_out_at
    from events_attributed
    where events_attributed.person_opted_out_at is not null
    group by 1

),

current_links as (

    select
        devices_linked.linked_person_id as person_id,
        count(*) as linked_device_count
    from devices_linked
    where devices_linked.is_linked
    group by 1

),

-- dim_persons and the persons of fct_events as built; none when built whole
built_persons as (

    {% if is_full_build %}
        select
            current_activity.person_id,
            current_activity.event_count,
            current_activity.first_seen_at,
            current_activity.last_seen_at,
            current_opt_outs.opted_out_at,
            cast(0 as {{ dbt.type_bigint() }}) as linked_device_count
        from current_activity
        inner join current_opt_outs
            on current_activity.person_id = current_opt_outs.person_id
        where 1 = 0
    {% else %}
        select
            persons.person_id,
            persons.event_count,
            persons.first_seen_at,
            persons.last_seen_at,
            persons.opted_out_at,
            persons.linked_device_count
        from {{ built_persons_relation }} as persons
    {% endif %}

),

built_event_persons as (

    {% if is_full_build %}
        select
            human_events.device_id,
            human_events.person_id
        from human_events
        where 1 = 0
    {% else %}
        select
            events.device_id,
            events.person_id
        from {{ built_events }} as events
        where events.person_id is not null
    {% endif %}

),

-- the persons of the touched devices' events, now and as built (every
-- person on a full build)
persons_of_touched_devices as (

    select human_events.person_id
    from human_events
    {% if not is_full_build -%}
        where human_events.device_id in (select mart_devices_touched.device_id from mart_devices_touched)
    {%- endif %}

    union

    select built_event_persons.person_id
    from built_event_persons
    where built_event_persons.device_id in (select mart_devices_touched.device_id from mart_devices_touched)

),

-- every person whose row of dim_persons as built differs in activity (a
-- build killed after the event marts and before dim_persons), opt-out or links
-- from what it would be now
persons_compared as (

    select
        coalesce(built_persons.person_id, current_activity.person_id) as person_id,
        case
            when built_persons.person_id is null
                or current_activity.person_id is null
                or built_persons.event_count != current_activity.event_count
                or built_persons.first_seen_at != current_activity.first_seen_at
                or built_persons.last_seen_at != current_activity.last_seen_at
                then 'activity_changed'
            -- null-safe: different, or only one of them null
            when coalesce(
                    built_persons.opted_out_at != current_opt_outs.opted_out_at,
                    built_persons.opted_out_at is not null or current_opt_outs.opted_out_at is not null
                )
                then 'opt_out_changed'
            when built_persons.linked_device_count != coalesce(current_links.linked_device_count, 0)
                then 'links_changed'
        end as change_reason
    from built_persons
    full outer join current_activity
        on built_persons.person_id = current_activity.person_id
    left join current_opt_outs
        on coalesce(built_persons.person_id, current_activity.person_id) = current_opt_outs.person_id
    left join current_links
        on coalesce(built_persons.person_id, current_activity.person_id) = current_links.person_id

),

changes as (

    select
        persons_of_touched_devices.person_id,
        '{{ "full_build" if is_full_build else "devices_changed" }}' as change_reason
    from persons_of_touched_devices

    union all

    select
        persons_compared.person_id,
        persons_compared.change_reason
    from persons_compared
    where persons_compared.change_reason is not null
        and persons_compared.person_id not in (
            select persons_of_touched_devices.person_id from persons_of_touched_devices
        )

),

touched as (

    select
        changes.person_id,
        cast(changes.change_reason as {{ dbt.type_string() }}) as change_reason,
        {{ behavioral_analytics.run_started_at_timestamp() }} as run_started_at
    from changes

)

select * from touched
