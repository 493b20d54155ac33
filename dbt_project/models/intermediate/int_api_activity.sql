-- The API's own activity baseline, one row per response bucket.
with

daily as (

    select * from {{ ref('stg_dynamo__label_overview_daily') }}

),

weekly as (

    select * from {{ ref('stg_dynamo__label_overview_weekly') }}

),

responses as (

    select workspace_id, channel_id, 'day' as group_by, requested_on as period_start, response
    from daily
    union all
    select workspace_id, channel_id, 'week' as group_by, week_start as period_start, response
    from weekly

),

bucket_activity as (

    select
        responses.workspace_id,
        responses.channel_id,
        responses.group_by,
        responses.period_start,
        (buckets.value ->> 'userMessages')::bigint as user_messages,
        (buckets.value ->> 'activeConversations')::bigint as active_conversations
    from responses,
        json_each(responses.response -> 'activity') as buckets

)

select * from bucket_activity
