{% macro funnel_definitions() %}
    {#- The funnels of `behavior__funnels`, checked and normalised: a list of
        {name, steps, window_hours, order}, sorted by name. -#}
    {%- set max_steps = 20 -%}
    {%- set funnels = var('behavior__funnels') or {} -%}
    {%- if funnels is not mapping -%}
        {{ exceptions.raise_compiler_error("behavior__funnels must be a mapping {name: {steps: [...], window_hours: 72, order: ordered}}, got " ~ funnels) }}
    {%- endif -%}
    {%- set definitions = [] -%}
    {%- for name in funnels | sort -%}
        {%- set funnel = funnels[name] -%}
        {%- if funnel is not mapping or 'steps' not in funnel -%}
            {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ " needs a list `steps`") }}
        {%- endif -%}
        {%- set steps = funnel['steps'] -%}
        {%- set order = (funnel.get('order') or 'ordered') | string | lower -%}
        {%- set window_hours = funnel.get('window_hours', 72) -%}
        {%- if not modules.re.match('^[A-Za-z0-9_ -]+$', name | string) -%}
            {{ exceptions.raise_compiler_error("behavior__funnels: a funnel name may hold letters, digits, spaces, _ and -, got '" ~ name ~ "'") }}
        {%- endif -%}
        {%- if steps is string or steps | length < 2 or steps | length > max_steps -%}
            {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ ".steps must list 2 to " ~ max_steps ~ " event names, got " ~ steps) }}
        {%- endif -%}
        {%- for step in steps -%}
            {%- if not modules.re.match('^[a-z][a-z0-9_]*$', step | string) -%}
                {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ ": step '" ~ step ~ "' is not an event name (^[a-z][a-z0-9_]*$)") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if order not in ['ordered', 'strict', 'any'] -%}
            {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ ".order must be ordered, strict or any, got '" ~ order ~ "'") }}
        {%- endif -%}
        {%- if order == 'any' and (steps | unique | list | length) != (steps | length) -%}
            {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ ": an `any` funnel needs distinct step names, got " ~ steps) }}
        {%- endif -%}
        {%- if window_hours is not number or window_hours <= 0 -%}
            {{ exceptions.raise_compiler_error("behavior__funnels." ~ name ~ ".window_hours must be a positive number, got " ~ window_hours) }}
        {%- endif -%}
        {%- do definitions.append({'name': name | string, 'steps': steps | list, 'window_hours': window_hours, 'order': order}) -%}
    {%- endfor -%}
    {{ return(definitions) }}
{% endmacro %}


{% macro funnel_max_steps() -%}
    {{ return(20) }}
{%- endmacro %}


{% macro funnel_settings_vars() %}
    {#- The vars int_funnel_persons_measured's rows depend on besides its
        events: when one changes, int_funnel_persons_touched lists every
        person (full_build) and the run measures them all again. -#}
    {{ return(['behavior__funnels', 'behavior__reporting_timezone', 'behavior__week_start', 'behavior__as_of_date']) }}
{% endmacro %}


{% macro funnel_person_signatures(events) %}
    {#- Per person of `events` (int_events_localized's rows): what their funnel
        rows are measured from, as a count and an order-independent signature
        of the columns the funnels read, and whether they have a step-1 event
        of any funnel. int_funnel_persons_measured keeps these on its rows;
        int_funnel_persons_touched compares them with the events now. -#}
    {%- set entry_events = behavioral_analytics.funnel_definitions() | map(attribute='steps') | map('first') | unique | list -%}
    select
        {{ events }}.person_id,
        count(*) as person_event_count,
        {{ behavioral_analytics.signature_agg(
            ['event_id', 'event_name', 'event_at', 'event_local_at', 'platform', 'week_start_date'], events
        ) }} as person_events_signature,
        max(case when {{ behavioral_analytics.in_list(events ~ '.event_name', entry_events) }} then 1 else 0 end) = 1
            as has_entry_event
    from {{ events }}
    group by {{ events }}.person_id
{% endmacro %}
