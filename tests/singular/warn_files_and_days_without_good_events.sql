{{ config(
    tags=['raw_files'],
    severity='warn',
) }}

-- Warns, naming each in the build's output, about two kinds of silent loss:
-- a loaded file whose every line is bad (all quarantined: a tracker sending
-- garbage), and a received date between the first and the last one loaded
-- with no good event (no file, or only bad lines: a broken collector day).
-- Severity warn: the build goes on, the output says what to look at.

{%- set built = load_relation(ref('fct_raw_file_reconciliation')) if execute else none %}
{%- if built is not none %}
    {%- set found = run_query(
        "select 'file ' || file_name || ': all ' || cast(lines_read as " ~ dbt.type_string() ~ ")"
        ~ " || ' lines are bad (see stg_tracker__events_quarantine)'"
        ~ " from " ~ built
        ~ " where status = 'loaded' and lines_read > 0 and lines_quarantined = lines_read"
        ~ " order by file_name"
    ) -%}
    {%- for row in found.rows %}
        {%- do log("behavioral_analytics: WARNING " ~ row[0], info=true) -%}
    {%- endfor %}
    {%- set dated = run_query(
        "select received_date, sum(events_staged + duplicates) from " ~ built
        ~ " where received_date is not null group by 1 order by 1"
    ) -%}
    {%- set good = dated.rows | selectattr(1, '>', 0) | map(attribute=0) | map('string') | list -%}
    {%- if dated.rows | length > 0 -%}
        {%- set day = modules.datetime.date.fromisoformat(dated.rows[0][0] | string) -%}
        {%- set last = modules.datetime.date.fromisoformat(dated.rows[-1][0] | string) -%}
        {%- for offset in range((last - day).days + 1) -%}
            {%- set current = (day + modules.datetime.timedelta(days=offset)) | string -%}
            {%- if current not in good -%}
                {%- do log(
                    "behavioral_analytics: WARNING received date " ~ current
                    ~ ": no good event (no file, or only bad lines)",
                    info=true
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endif %}

with

reconciliation as (

    select * from {{ ref('fct_raw_file_reconciliation') }}

),

bad_files as (

    select
        'file' as problem,
        reconciliation.file_name as subject,
        reconciliation.received_date
    from reconciliation
    where
        reconciliation.status = 'loaded'
        and reconciliation.lines_read > 0
        and reconciliation.lines_quarantined = reconciliation.lines_read

),

good_days as (

    select
        reconciliation.received_date,
        sum(reconciliation.events_staged + reconciliation.duplicates) as good_lines
    from reconciliation
    where reconciliation.received_date is not null
    group by 1

),

bounds as (

    select
        min(good_days.received_date) as first_date,
        max(good_days.received_date) as last_date
    from good_days

),

spine as (

    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}

),

days as (

    select cast(spine.date_day as date) as received_date
    from spine
    cross join bounds
    where
        cast(spine.date_day as date) >= bounds.first_date
        and cast(spine.date_day as date) <= bounds.last_date

),

empty_days as (

    select
        'day' as problem,
        cast(days.received_date as {{ dbt.type_string() }}) as subject,
        days.received_date
    from days
    left join good_days
        on days.received_date = good_days.received_date
    where coalesce(good_days.good_lines, 0) = 0

)

select * from bad_files
union all
select * from empty_days
