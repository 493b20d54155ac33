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
        workspace_id,
        channel_id,
        sent_on,
        landing_line,
        conversation_id,
        content_type,
        -- First occurrences, in the API's order: list_distinct costs seconds over 10M rows,
        -- this filter a fraction of one.
        list_filter(labels, lambda label, i: list_position(labels, label) = i) as labels,
        list_filter(
            custom_label_ids, lambda label, i: list_position(custom_label_ids, label) = i
        ) as custom_label_ids,
        len(labels) + len(custom_label_ids) > 0 as is_labeled,
        week_start,
        sent_at
    from messages
    where {{ run_days_predicate('sent_on') }}

)

select
    workspace_id,
    channel_id,
    sent_on,
    landing_line,
    conversation_id,
    content_type,
    labels,
    custom_label_ids,
    is_labeled,
    week_start,
    sent_at
from final
