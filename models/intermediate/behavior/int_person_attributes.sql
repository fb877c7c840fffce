-- One row per person with an event before the as-of moment: the groups the
-- models are audited by (primary platform, locale, first-seen month) and
-- the account. The most frequent value wins; ties go to the smaller value.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

enriched as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('fct_events') }}

),

platform_counts as (

    select
        events.person_id,
        events.platform,
        count(*) as event_count
    from events
    group by events.person_id, events.platform

),

primary_platforms as (

    select
        platform_counts.person_id,
        platform_counts.platform,
        row_number() over (
            partition by platform_counts.person_id
            order by platform_counts.event_count desc, platform_counts.platform asc
        ) as platform_rank
    from platform_counts

),

locale_counts as (

    select
        enriched.person_id,
        enriched.locale,
        count(*) as event_count
    from enriched
    inner join events
        on enriched.event_id = events.event_id
    where enriched.locale is not null
    group by enriched.person_id, enriched.locale

),

primary_locales as (

    select
        locale_counts.person_id,
        locale_counts.locale,
        row_number() over (
            partition by locale_counts.person_id
            order by locale_counts.event_count desc, locale_counts.locale asc
        ) as locale_rank
    from locale_counts

),

persons as (

    select
        events.person_id,
        max(events.user_id) as user_id,
        min(events.month_start_date) as first_seen_month_start_date
    from events
    group by events.person_id

),

final as (

    select
        persons.person_id,
        persons.user_id,
        persons.first_seen_month_start_date,
        primary_platforms.platform as primary_platform,
        primary_locales.locale as primary_locale
    from persons
    left join primary_platforms
        on persons.person_id = primary_platforms.person_id
            and primary_platforms.platform_rank = 1
    left join primary_locales
        on persons.person_id = primary_locales.person_id
            and primary_locales.locale_rank = 1

)

select * from final
