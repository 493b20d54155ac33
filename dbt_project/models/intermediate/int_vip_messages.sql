-- Messages carry no id: a message is its landing partition and line, which also says where
-- to find it (landing/vip_messages/workspace_id=W/medium_id=M/day=D/messages.jsonl, line N).
with

messages as (

    select * from {{ ref('stg_dynamo__vip_messages') }}

),

identified as (

    select
        concat_ws('/', workspace_id, channel_id, sent_on, landing_line) as message_id,
        workspace_id,
        channel_id,
        conversation_id,
        content_type,
        message_source,
        labels,
        custom_label_ids,
        sent_on,
        date_trunc('week', sent_on)::date as week_start,
        sent_at_ms,
        sent_at
    from messages

)

select * from identified
