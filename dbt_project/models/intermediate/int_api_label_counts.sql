-- The API's own per-bucket label counts, one row per response bucket and label.
with

responses as (

    select * from {{ ref('int_api_responses') }}

),

bucket_labels as (

    select
        responses.workspace_id,
        responses.channel_id,
        responses.group_by,
        responses.period_start,
        labels.key as label,
        (labels.value ->> 'count')::bigint as message_count,
        (labels.value ->> 'uniqueConversations')::bigint as unique_conversations
    from responses,
        json_each(responses.response -> 'buckets') as buckets,
        json_each(buckets.value) as labels

)

select * from bucket_labels
