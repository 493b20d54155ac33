-- A message's labels are the set of its built-in values and custom ids: duplicates count once.
with

messages as (

    select * from {{ ref('int_vip_messages') }}

),

built_in as (

    select
        message_id,
        unnest(labels) as label,
        false as is_custom_label
    from messages

),

custom as (

    select
        message_id,
        unnest(custom_label_ids) as label,
        true as is_custom_label
    from messages

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
        messages.message_id,
        messages.workspace_id,
        messages.channel_id,
        messages.conversation_id,
        message_labels.label,
        message_labels.is_custom_label,
        messages.sent_on,
        messages.week_start,
        messages.sent_at
    from message_labels
    inner join messages using (message_id)

)

select * from joined
