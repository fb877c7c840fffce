{#
    The attribution of an event to its person, and the opt-outs that follow
    from it: int_events_attributed's rule, shared with the state model that
    finds which devices it recomputes (int_attributed_devices_touched), so
    that the two cannot drift apart.
#}

{% macro attributed_events(events, devices_stitched) -%}
    {#- Each row of `events` (the staged events) with its person: the event's
        own user_id's, else its device's (the device itself when nobody
        identified on it; nobody for a shared device's anonymous events),
        and the account it is attributed to. -#}
    select
        {{ events }}.*,
        case
            when {{ events }}.user_id is not null
                then {{ behavioral_analytics.person_id_for_user(events ~ '.user_id') }}
            when {{ devices_stitched }}.device_id is null
                then {{ dbt.hash(dbt.concat(["'device|'", events ~ '.device_id'])) }}
            else {{ devices_stitched }}.person_id
        end as person_id,
        coalesce({{ events }}.user_id, {{ devices_stitched }}.stitched_user_id) as person_user_id
    from {{ events }}
    left join {{ devices_stitched }}
        on {{ events }}.device_id = {{ devices_stitched }}.device_id
{%- endmacro %}


{% macro person_opt_outs(attributed) -%}
    {#- Per person: the first event without analytics consent (opted_out_at),
        from which on nothing of the person is analysed, on any device. -#}
    select
        {{ attributed }}.person_id,
        min({{ attributed }}.event_at) as opted_out_at
    from {{ attributed }}
    where {{ attributed }}.person_id is not null and not {{ attributed }}.has_analytics_consent
    group by {{ attributed }}.person_id
{%- endmacro %}
