{% macro settings_signature(var_names) -%}
    {#- The md5 of the named vars' values as JSON text, as a SQL literal. An
        incremental model keeps it on its rows; its touched model lists every
        key (full_build) when a built row's differs, as the rows were
        computed with other settings (int_funnel_persons_touched). -#}
    {%- set settings = {} -%}
    {%- for name in var_names -%}
        {%- do settings.update({name: var(name, none)}) -%}
    {%- endfor -%}
    '{{ local_md5(tojson(settings, sort_keys=true)) }}'
{%- endmacro %}
