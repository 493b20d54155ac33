-- The API's own activity baseline, one row per response bucket.
with

responses as (

    select * from {{ ref('int_api_responses') }}

),

bucket_activity as (

    select
        responses.workspace_id,
        responses.channel_id,
        responses.group_by,
        responses.period_start,
        (buckets.value ->> 'userMessages')::bigint as user_messages,
        (buckets.value ->> 'activeConversations')::bigint as active_conversations,
        responses.fetched_at
    from responses,
        json_each(responses.response -> 'activity') as buckets

)

select * from bucket_activity
