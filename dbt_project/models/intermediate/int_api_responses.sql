-- Every landed label-overview response, daily and weekly in one relation. Each covers one day
-- (groupBy=day) or one whole ISO week (groupBy=week), so its single bucket is its partition:
-- filters on period_start prune the files read.
with

daily as (

    select * from {{ ref('stg_dynamo__label_overview_daily') }}

),

weekly as (

    select * from {{ ref('stg_dynamo__label_overview_weekly') }}

),

responses as (

    select
        workspace_id,
        channel_id,
        'day' as group_by,
        requested_on as period_start,
        response,
        fetched_at
    from daily

    union all

    select
        workspace_id,
        channel_id,
        'week' as group_by,
        week_start as period_start,
        response,
        fetched_at
    from weekly

)

select * from responses
