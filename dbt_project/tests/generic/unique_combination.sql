{#- Composite-grain uniqueness without a package dependency (dbt deps needs the network); a
    key that holds a line number names it (`line_column`) to be checked by bitmaps. -#}
{% test unique_combination(model, columns, line_column=none) %}
{%- if line_column is none -%}
{{ duplicate_keys(model, columns) }}
{%- else -%}
{{ duplicate_lines(model, columns, line_column) }}
{%- endif -%}
{% endtest %}
