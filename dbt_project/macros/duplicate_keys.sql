{#-
    The key values that occur more than once, exactly, in two passes: group the keys' 64-bit
    hashes (cheap), then compare the real keys only where a hash repeats. Grouping 14 million
    string keys directly is most of a build's test time; a hash collision costs a second look,
    never a missed duplicate.
-#}
{% macro duplicate_keys(model, columns) %}
with

repeated_hashes as (

    select hash({{ columns | join(', ') }}) as key_hash
    from {{ model }}
    group by 1
    having count(*) > 1

)

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
where hash({{ columns | join(', ') }}) in (select key_hash from repeated_hashes)
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#- dbt's `unique` test, the same way (dispatched here by dbt_project.yml); nulls are
    not_null's business, as in dbt's own. -#}
{% macro duckdb__test_unique(model, column_name) %}
{%- set non_null -%}
    (select * from {{ model }} where {{ column_name }} is not null) as non_null_keys
{%- endset -%}
{{ duplicate_keys(non_null, [column_name]) }}
{% endmacro %}
