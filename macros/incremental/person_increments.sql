{#
    A per-person increment of a behavioural model (int_funnel_persons_measured):
    an incremental run recomputes the persons int_mart_persons_touched lists
    (a device of theirs changed in fct_events, which every behavioural mart
    reads through int_events_localized) and keeps the others' rows.

    That holds while the settings the rows were computed with are the same.
    Each row carries the signature of those settings (`settings_signature`,
    the md5 of the values of the vars the model names);
    when any built row's differs from this run's (a funnel, the reporting
    time zone, the week start or a fixed as-of date changed), the run
    recomputes every person. With no fixed as-of date (the day after the last
    event), every event of a person is before it, so a later as-of date
    changes nothing for a person whose events did not change.
#}

{% macro settings_signature(var_names) -%}
    {#- The md5 of the named vars' values as JSON text, as a SQL literal. -#}
    {%- set settings = {} -%}
    {%- for name in var_names -%}
        {%- do settings.update({name: var(name, none)}) -%}
    {%- endfor -%}
    '{{ local_md5(tojson(settings, sort_keys=true)) }}'
{%- endmacro %}


{% macro person_increment_is_whole(settings_vars) %}
    {#- True when this incremental run must recompute every person: a built
        row was computed with other settings. False on a build that is not
        incremental (it computes every person anyway) and at parse time. -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ this }} as built
        where built.settings_signature is null
            or built.settings_signature <> {{ behavioral_analytics.settings_signature(settings_vars) }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{% endmacro %}


{% macro person_increment_prepare(touched_relation, settings_vars) %}
    {#- The pre-hook: deletes the rows this run recomputes (the touched
        persons', or all of them when the settings changed). -#}
    {%- if behavioral_analytics.person_increment_is_whole(settings_vars) -%}
        {{- behavioral_analytics.device_increment_delete(touched_relation, '1 = 1') -}}
    {%- else -%}
        {{- behavioral_analytics.device_increment_prepare(touched_relation, 'person_id') -}}
    {%- endif -%}
{% endmacro %}


{% macro person_increment_filter(person_column, touched_relation, settings_vars) -%}
    {#- The persons the model computes: the touched ones on an incremental
        run (every one when the settings changed), every one otherwise. -#}
    {%- if behavioral_analytics.person_increment_is_whole(settings_vars) -%}
        (1 = 1)
    {%- else -%}
        {{ behavioral_analytics.device_increment_filter(person_column, touched_relation, 'person_id') }}
    {%- endif -%}
{%- endmacro %}
