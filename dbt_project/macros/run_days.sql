{#-
    The days an incremental mart rebuilds: the run's window from the `from_day` / `to_day`
    vars the pipeline passes (weekly marts: the ISO weeks touching it). A first or full-refresh
    build, or a build with no vars, covers every landed day.
-#}
{% macro run_days_predicate(day_column) -%}
    {%- if is_incremental() and var('from_day') and var('to_day') -%}
        {{ day_column }} between date '{{ var("from_day") }}' and date '{{ var("to_day") }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro run_weeks_predicate(week_column) -%}
    {%- if is_incremental() and var('from_day') and var('to_day') -%}
        {{ week_column }} between date_trunc('week', date '{{ var("from_day") }}')::date
            and date_trunc('week', date '{{ var("to_day") }}')::date
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
