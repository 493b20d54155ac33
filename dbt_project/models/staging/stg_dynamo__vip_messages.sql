with

source as (

    select * from {{ read_landing('landing', 'vip_messages') }}

),

renamed as (

    select
        ----------  ids
        workspace_id,
        medium_id as channel_id,
        "conversationId" as conversation_id,
        "_line" as landing_line,

        ---------- dimensions
        kind as content_type,
        source as message_source,
        coalesce(labels, []) as labels,
        coalesce("customLabelIds", []) as custom_label_ids,

        ---------- timestamps
        day as sent_on,
        "timestamp" as sent_at_ms,
        make_timestamp_ms("timestamp") as sent_at

    from source

)

select * from renamed
