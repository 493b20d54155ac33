{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['workspace_id', 'custom_label_id'],
) }}

-- Every custom label id seen on a message or in a response; ids the API never described get
-- the id as their name and no colour, as GET /label-overview reports them. A run updates the
-- ids its days mention with what its own responses say (latest fetch first), keeping what
-- earlier runs learned when its responses say nothing of an id.
with

labeled_messages as (

    select * from {{ ref('fct_labeled_messages') }}

),

reported as (

    select * from {{ ref('int_custom_label_metadata') }}

),

{% if is_incremental() %}
known as (

    select * from {{ this }} where has_metadata

),
{% endif %}

run_metadata as (

    select *
    from reported
    where {{ run_weeks_predicate('period_start') }} or {{ run_days_predicate('period_start') }}
    qualify row_number() over (
        partition by workspace_id, custom_label_id
        order by fetched_at desc, custom_label_name, custom_label_color
    ) = 1

),

seen_on_messages as (

    select distinct
        workspace_id,
        label as custom_label_id
    from labeled_messages
    where is_custom_label
        and {{ run_days_predicate('sent_on') }}

),

run_ids as (

    select workspace_id, custom_label_id from seen_on_messages
    union
    select workspace_id, custom_label_id from run_metadata

),

final as (

    select
        run_ids.workspace_id,
        run_ids.custom_label_id,
        coalesce(
            run_metadata.custom_label_name,
            {% if is_incremental() %}known.custom_label_name,{% endif %}
            run_ids.custom_label_id
        ) as custom_label_name,
        {% if is_incremental() -%}
        case
            when run_metadata.custom_label_name is not null then run_metadata.custom_label_color
            else known.custom_label_color
        end as custom_label_color,
        run_metadata.custom_label_name is not null or known.custom_label_name is not null
            as has_metadata
        {%- else -%}
        run_metadata.custom_label_color,
        run_metadata.custom_label_name is not null as has_metadata
        {%- endif %}
    from run_ids
    left join run_metadata using (workspace_id, custom_label_id)
    {% if is_incremental() -%}
    left join known using (workspace_id, custom_label_id)
    {%- endif %}

)

select
    workspace_id,
    custom_label_id,
    custom_label_name,
    custom_label_color,
    has_metadata
from final
