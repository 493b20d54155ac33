{#-
    The days an incremental mart rebuilds: the run's window, which the pipeline passes as
    LABEL_OVERVIEW_FROM_DAY / LABEL_OVERVIEW_TO_DAY in dbt's environment (by hand, `--vars`
    from_day / to_day do the same). Not vars from the pipeline: dbt re-parses the whole project
    whenever `--vars` change, which would be every nightly run, while these are read only as a
    model runs. Weekly marts rebuild the ISO weeks touching the window. A first or full-refresh
    build, or a build given no window, covers every landed day.
-#}
{#- Read only when running: a test's `where` is rendered while parsing too (only for its refs),
    and dbt re-parses a YAML file whose tests read an env var that has changed since, which
    the window does every run (~1.2 s a build). -#}
{% macro run_day(edge) -%}
    {%- if not execute -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(var(edge ~ '_day') or env_var('LABEL_OVERVIEW_' ~ (edge | upper) ~ '_DAY', '')) -%}
{%- endmacro %}

{% macro run_days_predicate(day_column) -%}
    {%- if is_incremental() and run_day('from') and run_day('to') -%}
        {{ day_column }} between date '{{ run_day("from") }}' and date '{{ run_day("to") }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro run_weeks_predicate(week_column) -%}
    {%- if is_incremental() and run_day('from') and run_day('to') -%}
        {{ week_column }} between date_trunc('week', date '{{ run_day("from") }}')::date
            and date_trunc('week', date '{{ run_day("to") }}')::date
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Rows of the rebuilt window are deleted first, so rows that vanished upstream go too. -#}
{% macro delete_run_days(day_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ run_days_predicate(day_column) }}
    {%- endif -%}
{%- endmacro %}

{% macro delete_run_weeks(week_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ run_weeks_predicate(week_column) }}
    {%- endif -%}
{%- endmacro %}
