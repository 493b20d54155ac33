{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('sent_on') }}",
) }}

with

message_labels as (

    select * from {{ ref('int_message_labels') }}

)

select
    message_id,
    workspace_id,
    channel_id,
    conversation_id,
    label,
    is_custom_label,
    sent_on,
    week_start,
    sent_at
from message_labels
where {{ run_days_predicate('sent_on') }}
