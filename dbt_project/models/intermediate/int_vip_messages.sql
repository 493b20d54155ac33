-- Messages carry no id, and identical ones (same conversation, millisecond and content) are
-- distinct messages: number each copy so the key is unique and stable for a landed partition.
with

messages as (

    select * from {{ ref('stg_dynamo__vip_messages') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by
                workspace_id,
                channel_id,
                sent_on,
                conversation_id,
                sent_at_ms,
                content_type,
                message_source,
                labels,
                custom_label_ids
        ) as copy_number
    from messages

),

identified as (

    select
        md5(concat_ws(
            '|',
            workspace_id,
            channel_id,
            conversation_id,
            sent_at_ms,
            content_type,
            message_source,
            labels::varchar,
            custom_label_ids::varchar,
            copy_number
        )) as message_id,
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
    from numbered

)

select * from identified
