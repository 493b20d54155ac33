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

    select
        *,
        list_concat(labels, custom_label_ids) as all_labels
    from user_messages
    where {{ run_days_predicate('sent_on') }}

),

unnested as (

    select
        *,
        unnest(all_labels) as label,
        unnest(range(1, len(all_labels) + 1)) as label_position
    from run_messages

),

-- Each list is already distinct: only a value in both lists repeats, and it is kept once.
message_labels as (

    select *
    from unnested
    where list_position(all_labels, label) = label_position

)

select
    workspace_id,
    channel_id,
    sent_on,
    landing_line,
    label,
    list_contains(custom_label_ids, label) as is_custom_label,
    conversation_id,
    week_start,
    sent_at
from message_labels
