{{ config(contract={'enforced': true}) }}

-- One row per week_start_date x feature (properties.feature): for every
-- week from the first active week to the last one and every feature seen
-- before the as-of moment, who used it that week, who was active, and how
-- many have adopted it so far.

with

events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_events_localized') }}

),

person_days as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_person_days_aggregated') }}

),

calendar as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('int_reporting_days') }}

),

weeks as (

    select distinct calendar.week_start_date
    from calendar

),

feature_uses as (

    select distinct
        events.feature,
        events.week_start_date,
        events.person_id
    from events
    where events.feature is not null

),

features as (

    select distinct feature_uses.feature
    from feature_uses

),

first_uses as (

    select
        feature_uses.feature,
        feature_uses.person_id,
        min(feature_uses.week_start_date) as first_week_start_date
    from feature_uses
    group by feature_uses.feature, feature_uses.person_id

),

weekly_users as (

    select
        feature_uses.feature,
        feature_uses.week_start_date,
        count(*) as feature_users
    from feature_uses
    group by feature_uses.feature, feature_uses.week_start_date

),

weekly_new_adopters as (

    select
        first_uses.feature,
        first_uses.first_week_start_date as week_start_date,
        count(*) as new_adopters
    from first_uses
    group by first_uses.feature, first_uses.first_week_start_date

),

weekly_active as (

    select
        person_days.week_start_date,
        count(distinct person_days.person_id) as active_users
    from person_days
    group by person_days.week_start_date

),

first_active_weeks as (

    select
        person_days.person_id,
        min(person_days.week_start_date) as first_week_start_date
    from person_days
    group by person_days.person_id

),

weekly_new_active as (

    select
        first_active_weeks.first_week_start_date as week_start_date,
        count(*) as new_active_users
    from first_active_weeks
    group by first_active_weeks.first_week_start_date

),

grid as (

    select
        weeks.week_start_date,
        features.feature,
        coalesce(weekly_users.feature_users, 0) as feature_users,
        coalesce(weekly_active.active_users, 0) as active_users,
        coalesce(weekly_new_adopters.new_adopters, 0) as new_adopters,
        sum(coalesce(weekly_new_adopters.new_adopters, 0)) over (
            partition by features.feature
            order by weeks.week_start_date
            rows between unbounded preceding and current row
        ) as cumulative_adopters,
        sum(coalesce(weekly_new_active.new_active_users, 0)) over (
            partition by features.feature
            order by weeks.week_start_date
            rows between unbounded preceding and current row
        ) as cumulative_active_users
    from weeks
    cross join features
    left join weekly_users
        on features.feature = weekly_users.feature
            and weeks.week_start_date = weekly_users.week_start_date
    left join weekly_new_adopters
        on features.feature = weekly_new_adopters.feature
            and weeks.week_start_date = weekly_new_adopters.week_start_date
    left join weekly_active
        on weeks.week_start_date = weekly_active.week_start_date
    left join weekly_new_active
        on weeks.week_start_date = weekly_new_active.week_start_date

),

final as (

    select
        grid.week_start_date,
        grid.feature,
        cast(grid.feature_users as {{ dbt.type_bigint() }}) as feature_users,
        cast(grid.active_users as {{ dbt.type_bigint() }}) as active_users,
        cast(
            case when grid.active_users > 0 then grid.feature_users * 1.0 / grid.active_users end
            as {{ behavioral_analytics.type_double() }}
        ) as adoption_rate,
        cast(grid.new_adopters as {{ dbt.type_bigint() }}) as new_adopters,
        cast(grid.cumulative_adopters as {{ dbt.type_bigint() }}) as cumulative_adopters,
        cast(grid.cumulative_active_users as {{ dbt.type_bigint() }}) as cumulative_active_users,
        cast(
            case when grid.cumulative_active_users > 0
                    then grid.cumulative_adopters * 1.0 / grid.cumulative_active_users
            end
            as {{ behavioral_analytics.type_double() }}
        ) as cumulative_adoption_rate
    from grid

)

select * from final
