{#-
    The landing files of one source table, typed by the columns its YAML declares.

    Sources carry `meta.landing_glob` (relative to the landing folder), `meta.hive_types` and,
    for Parquet files, `meta.landing_format: parquet` (else JSON lines). The readers need at
    least one file, so before the first landing (or in a mode that lands nothing for this
    table) the relation is an empty, typed select.
-#}
{% macro read_landing(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        (select 1)
    {%- else -%}
        {%- set node = landing_source_node(source_name, table_name) -%}
        {%- set pattern = landing_pattern(node) -%}
        {%- set hive_types = node.meta.get('hive_types', {}) -%}
        {%- set file_columns = node.columns.values() | rejectattr('name', 'in', hive_types) | list -%}
        {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
        {%- if found == 0 -%}
            (
                select
                {%- for column in node.columns.values() %}
                    null::{{ column.data_type }} as "{{ column.name }}"{{ ',' if not loop.last }}
                {%- endfor %}
                where false
            )
        {%- elif node.meta.get('landing_format') == 'parquet' -%}
            {#- The files hold every field of their type; only the declared columns are read. -#}
            (
                select
                {%- for column in node.columns.values() %}
                    "{{ column.name }}"::{{ column.data_type }} as "{{ column.name }}"{{ ',' if not loop.last }}
                {%- endfor %}
                from read_parquet(
                    '{{ pattern }}',
                    {{ hive_options(hive_types) }}
                )
            )
        {%- else -%}
            read_json(
                '{{ pattern }}',
                format = 'newline_delimited',
                columns = { {%- for column in file_columns -%}
                    '{{ column.name }}': '{{ column.data_type }}'{{ ', ' if not loop.last }}
                {%- endfor -%} },
                {{ hive_options(hive_types) }}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The options that read a landing's partition keys from its folder names, typed. -#}
{% macro hive_options(hive_types) -%}
    {%- if hive_types -%}
        hive_partitioning = true,
        hive_types = { {%- for name, type in hive_types.items() -%}
            '{{ name }}': '{{ type }}'{{ ', ' if not loop.last }}
        {%- endfor -%} },
        hive_types_autocast = false
    {%- else -%}
        hive_partitioning = false
    {%- endif -%}
{%- endmacro %}

{#-
    The partitions landed for a source table, one row per file, empty files included:
    a day pulled with no messages is still a day the messages cover.
-#}
{% macro landed_partitions(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        (select 1)
    {%- else -%}
        {%- set node = landing_source_node(source_name, table_name) -%}
        {%- set pattern = landing_pattern(node) -%}
        (
            select
            {%- for name, type in node.meta.hive_types.items() %}
                regexp_extract(file, '/{{ name }}=([^/]+)/', 1)::{{ type }} as "{{ name }}",
            {%- endfor %}
                file
            from glob('{{ pattern }}')
        )
    {%- endif -%}
{%- endmacro %}

{#- The graph node of a landing source, for its meta and declared columns. -#}
{% macro landing_source_node(source_name, table_name) -%}
    {{ return(graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | first) }}
{%- endmacro %}

{#-
    The glob of a landing source's files, relative to the data root, where dbt runs (the
    landing's name comes from the pipeline, layout.py): the data root's own path never
    reaches SQL or a glob (a quote or bracket in it would), and hive partitions are read only
    from below the landing.
-#}
{% macro landing_pattern(node) -%}
    {{ return(env_var('LABEL_OVERVIEW_LANDING_DIR', 'landing') ~ '/' ~ node.meta.landing_glob) }}
{%- endmacro %}
