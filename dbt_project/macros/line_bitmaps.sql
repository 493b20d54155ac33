{#-
    Keys that hold a line number (landing_line: a message's position in its landing
    partition) are checked with bitmaps instead of a hash table entry per row. Rows are
    grouped by the key's other columns and the line's block of 1024 lines (line >> 10); a
    block's bitmap sets bit (line & 1023) for each of its lines. A block's lines are distinct
    exactly when its bitmap has as many bits set as the block has rows, and a block's lines
    are all among another's exactly when its bitmap has no bit the other's lacks. Exact for
    any line values (a block is the same 1024 lines whatever they are); dense lines only keep
    the blocks few (one per 1024 messages of a partition, 128 bytes each; 4096 lines a block
    were no faster, 256 slower). Only the rows of blocks that fail are then checked key by
    key, so a failing test returns the same rows as a check of every key would.
-#}

{% macro line_block(line_column) -%}
    ({{ line_column }} >> 10)
{%- endmacro %}

{#- Null when the block has no line that is not null. -#}
{% macro line_bitmap(line_column) -%}
    bitstring_agg({{ line_column }} & 1023, 0, 1023)
{%- endmacro %}

{#- The rows of `relation` (aliased `alias`) where `condition` holds, in the blocks `blocks`
    lists; a null column matches a null, as grouping treats them. -#}
{% macro in_line_blocks(relation, alias, group_columns, line_column, blocks, condition='true') -%}
    (select * from {{ relation }} where {{ condition }}) as {{ alias }}
    semi join {{ blocks }}
        on {% for column in group_columns -%}
            {{ alias }}.{{ column }} is not distinct from {{ blocks }}.{{ column }} and
        {% endfor -%}
        {{ line_block(alias ~ '.' ~ line_column) }} is not distinct from {{ blocks }}.line_block
{%- endmacro %}
