-- Messages carry no id: a message is its landing partition and line (workspace_id,
-- channel_id, sent_on, landing_line), which also says where to find it
-- (landing/vip_messages/workspace_id=W/medium_id=M/day=D/messages.parquet, _line = N).
with

messages as (

    select * from {{ ref('stg_dynamo__vip_messages') }}

),

with_weeks as (

    select
        workspace_id,
        channel_id,
        sent_on,
        landing_line,
        conversation_id,
        content_type,
        message_source,
        labels,
        custom_label_ids,
        date_trunc('week', sent_on)::date as week_start,
        sent_at_ms,
        sent_at
    from messages

)

select * from with_weeks
