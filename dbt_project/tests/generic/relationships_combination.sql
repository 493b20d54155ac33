{#-
    dbt's `relationships` over a composite key (the same column names on both sides), with
    the parent rows narrowed by `to_condition` (as dbt_utils' `relationships_where`, which
    `dbt deps` would need the network for). On the run's days (`__run_days__`) the parent's
    scan does not grow with history. A key that holds a line number (`line_column`) is
    compared block by block first (macros/line_bitmaps.sql): only blocks with a child line
    the parent's lines lack are joined row by row, which returns the same rows.
-#}
{% test relationships_combination(model, columns, to, to_condition='true', line_column=none) %}
{%- if line_column is none -%}
with

child as (

    select {{ columns | join(', ') }}
    from {{ model }}

),

parent as (

    select {{ columns | join(', ') }}
    from {{ to }}
    where {{ with_run_days(to_condition) }}

)

select *
from child
anti join parent using ({{ columns | join(', ') }})
{%- else -%}
{%- set group_columns = columns | reject('equalto', line_column) | list -%}
with

child_blocks as (

    select
        {% for column in group_columns -%}
            {{ column }},
        {% endfor -%}
        {{ line_block(line_column) }} as line_block,
        count(*) > count({{ line_column }}) as has_null_line,
        {{ line_bitmap(line_column) }} as lines
    from {{ model }}
    group by all

),

parent_blocks as (

    select
        {% for column in group_columns -%}
            {{ column }},
        {% endfor -%}
        {{ line_block(line_column) }} as line_block,
        {{ line_bitmap(line_column) }} as lines
    from {{ to }}
    where {{ with_run_days(to_condition) }}
    group by all

),

-- A null key column or line matches no parent: its block is looked at row by row too.
suspect_blocks as (

    select
        {% for column in group_columns -%}
            child_blocks.{{ column }},
        {% endfor -%}
        child_blocks.line_block
    from child_blocks
    left join parent_blocks
        using ({{ group_columns | join(', ') }}, line_block)
    where child_blocks.has_null_line
        or parent_blocks.lines is null
        or bit_count(child_blocks.lines & ~parent_blocks.lines) > 0

),

child as (

    select {{ columns | join(', ') }}
    from {{ in_line_blocks(model, 'child_rows', group_columns, line_column, 'suspect_blocks') }}

),

parent as (

    select {{ columns | join(', ') }}
    from {{ in_line_blocks(
        to, 'parent_rows', group_columns, line_column, 'suspect_blocks', with_run_days(to_condition)
    ) }}

)

select *
from child
anti join parent using ({{ columns | join(', ') }})
{%- endif -%}
{% endtest %}
