{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('sent_on') }}",
) }}

-- A message's labels are the set of its built-in values and custom ids: duplicates count once,
-- and a value in both lists is one label (custom, since the workspace defined it).
with

user_messages as (

    select * from {{ ref('fct_user_messages') }}

),

run_messages as (

    select *
    from user_messages
    where {{ run_days_predicate('sent_on') }}

),

built_in as (

    select
        message_id,
        unnest(labels) as label,
        false as is_custom_label
    from run_messages

),

custom as (

    select
        message_id,
        unnest(custom_label_ids) as label,
        true as is_custom_label
    from run_messages

),

message_labels as (

    select
        message_id,
        label,
        bool_or(is_custom_label) as is_custom_label
    from (
        select * from built_in
        union all
        select * from custom
    )
    group by all

),

joined as (

    select
        run_messages.message_id,
        run_messages.workspace_id,
        run_messages.channel_id,
        run_messages.conversation_id,
        message_labels.label,
        message_labels.is_custom_label,
        run_messages.sent_on,
        run_messages.week_start,
        run_messages.sent_at
    from message_labels
    inner join run_messages using (message_id)

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
from joined
