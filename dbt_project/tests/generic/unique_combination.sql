{#- Composite-grain uniqueness without a package dependency (dbt deps needs the network). -#}
{% test unique_combination(model, columns) %}
{{ duplicate_keys(model, columns) }}
{% endtest %}
