{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('sent_on') }}",
) }}

-- A message's labels are the set of its built-in values and custom ids: duplicates count once,
-- and a value in both lists is one label (custom, since the workspace defined it).
with

-- Read twice below: not materialized, so each read is a plain scan of the table.
user_messages as not materialized (

    select * from {{ ref('fct_user_messages') }}

),

-- Each value once: fct_user_messages holds each list's values once already, so only a value in
-- both lists is left out of the built-in labels (it goes with the custom ids). Each list is
-- unnested on its own, so no list is copied beside every label (as unnesting the two lists
-- together, with their positions, did: 10% of this model's time).
builtin_labels as (

    select
        workspace_id,
        channel_id,
        sent_on,
        landing_line,
        unnest(list_filter(
            labels, lambda label: list_position(custom_label_ids, label) is null
        )) as label,
        false as is_custom_label,
        conversation_id,
        week_start,
        sent_at
    from user_messages
    where len(labels) > 0
        and {{ run_days_predicate('sent_on') }}

),

custom_labels as (

    select
        workspace_id,
        channel_id,
        sent_on,
        landing_line,
        unnest(custom_label_ids) as label,
        true as is_custom_label,
        conversation_id,
        week_start,
        sent_at
    from user_messages
    where len(custom_label_ids) > 0
        and {{ run_days_predicate('sent_on') }}

),

message_labels as (

    select * from builtin_labels
    union all
    select * from custom_labels

)

select
    workspace_id,
    channel_id,
    sent_on,
    landing_line,
    label,
    is_custom_label,
    conversation_id,
    week_start,
    sent_at
from message_labels
