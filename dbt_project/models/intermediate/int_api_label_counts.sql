-- The API's own per-bucket label counts, one row per response bucket and label. Each landed
-- response covers one day (groupBy=day) or one whole ISO week (groupBy=week), so its one
-- bucket is its partition: filters on period_start prune the files read.
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
