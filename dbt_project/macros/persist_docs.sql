{#-
    dbt-duckdb's column comments (dispatched here by dbt_project.yml), without looking up the
    relation's columns a second time: dbt's persist_docs has just looked them up and passes
    only the documented columns the relation has. Each look-up is a query and an agate table.
-#}
{% macro duckdb__alter_column_comment(relation, column_dict) %}
  {% for column_name in column_dict %}
    {%- set name = adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name %}
    comment on column {{ relation }}.{{ name }} is {{ duckdb_escape_comment(column_dict[column_name]['description']) }};
  {% endfor %}
{% endmacro %}
