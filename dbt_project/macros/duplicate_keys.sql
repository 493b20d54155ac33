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

{#-
    The same rows as duplicate_keys, for a key that holds a line number (`line_column`,
    macros/line_bitmaps.sql): a bitmap per block of lines finds the blocks with a repeated
    line (or a null one), and only their rows are grouped by the whole key. A hash table
    entry per block instead of one per row: a fifth of the time on the 10M-row facts.
    Blocks are grouped by the 64-bit hash of the key's other columns, not by the columns
    (half the time again). Keys whose hashes collide share a block's bitmap; a block with a
    repeated line has more rows than bits set whatever else shares it, so it is suspect
    still, and a suspect block's rows are grouped by the whole key: no duplicate goes unseen,
    and a collision costs a second look only.
-#}
{% macro duplicate_lines(model, columns, line_column) %}
{%- set group_columns = columns | reject('equalto', line_column) | list -%}
with

suspect_blocks as (

    select
        hash({{ group_columns | join(', ') }}) as key_hash,
        {{ line_block(line_column) }} as line_block
    from {{ model }}
    group by all
    having count(*) <> coalesce(bit_count({{ line_bitmap(line_column) }}), 0)

)

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from (select * from {{ model }}) as keyed
semi join suspect_blocks
    on hash(
        {%- for column in group_columns %}keyed.{{ column }}{{ ', ' if not loop.last }}{% endfor -%}
    ) = suspect_blocks.key_hash
    and {{ line_block('keyed.' ~ line_column) }} is not distinct from suspect_blocks.line_block
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
