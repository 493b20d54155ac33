{#-
    Tests on the 10-million-row facts check only the run's days when their `where` config
    says `__run_days__` (e.g. `where: "sent_on __run_days__"`), so a daily run's tests do not
    grow with history; a build given no window checks every day. Only tests whose keys
    are per day use it: a message's key holds its day, so uniqueness within each day is
    uniqueness over all of them. dbt's documented way to template a test's `where`.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ with_run_days(where) ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- A test's condition with `__run_days__` spelled out: the run's days, or every day. -#}
{% macro with_run_days(condition) -%}
    {%- set days = "between date '" ~ run_day('from') ~ "' and date '" ~ run_day('to') ~ "'"
        if run_day('from') and run_day('to') else 'is not null' -%}
    {%- do return(condition | replace('__run_days__', days)) -%}
{%- endmacro %}
