{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('sent_on') }}",
) }}

-- The one mart read from the landing files: every other fact reads this table, so a build
-- parses the run's JSON once.
with

messages as (

    select * from {{ ref('int_vip_messages') }}

),

final as (

    select
        message_id,
        workspace_id,
        channel_id,
        conversation_id,
        content_type,
        list_sort(list_distinct(labels)) as labels,
        list_sort(list_distinct(custom_label_ids)) as custom_label_ids,
        len(list_distinct(list_concat(labels, custom_label_ids)))::integer as label_count,
        len(labels) + len(custom_label_ids) > 0 as is_labeled,
        sent_on,
        week_start,
        sent_at
    from messages
    where {{ run_days_predicate('sent_on') }}

)

select
    message_id,
    workspace_id,
    channel_id,
    conversation_id,
    content_type,
    labels,
    custom_label_ids,
    label_count,
    is_labeled,
    sent_on,
    week_start,
    sent_at
from final
