{%- set rules = [] -%}
{#- Compiling (dbt docs generate) before the seed is loaded shows no rules. -#}
{%- if execute and load_relation(ref('user_agent_rules')) is not none -%}
    {%- set rules_query -%}
        select rule_type, pattern, value, version_pattern
        from {{ ref('user_agent_rules') }}
        order by rule_type, priority
    {%- endset -%}
    {%- set rules = run_query(rules_query).rows -%}
{%- endif -%}
{%- set family_rules = rules | selectattr(0, 'equalto', 'family') | list -%}
{%- set class_rules = rules | selectattr(0, 'equalto', 'device_class') | list %}
-- depends_on: {{ ref('user_agent_rules') }}
-- The rules are read from the seed when the model is built, so they become
-- plain CASE expressions over the few distinct user agents.

with

stg_tracker__events as {{ behavioral_analytics.inlined_cte() }} (

    select * from {{ ref('stg_tracker__events') }}

),

user_agents as (

    select distinct stg_tracker__events.user_agent
    from stg_tracker__events
    where stg_tracker__events.user_agent is not null

),

parsed as (

    select
        user_agents.user_agent,
        case
            when 1 = 0 then null
            {% for rule in family_rules -%}
                when {{ behavioral_analytics.regex_contains('user_agents.user_agent', "'" ~ rule[1] ~ "'") }}
                    then '{{ rule[2] }}'
            {%- endfor %}
            else 'Other'
        end as user_agent_family,
        case
            when 1 = 0 then null
            {% for rule in family_rules if rule[3] -%}
                when {{ behavioral_analytics.regex_contains('user_agents.user_agent', "'" ~ rule[1] ~ "'") }}
                    then {{ behavioral_analytics.regex_extract('user_agents.user_agent', rule[3]) }}
            {%- endfor %}
        end as user_agent_version,
        case
            when 1 = 0 then null
            {% for rule in class_rules -%}
                when {{ behavioral_analytics.regex_contains('user_agents.user_agent', "'" ~ rule[1] ~ "'") }}
                    then '{{ rule[2] }}'
            {%- endfor %}
            else 'other'
        end as device_class
    from user_agents

)

select * from parsed
