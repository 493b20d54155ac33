-- Custom label names and colours as each landed label-overview response reported them (only
-- those responses carry them), one row per response and custom label id.
with

daily as (

    select * from {{ ref('stg_dynamo__label_overview_daily') }}

),

weekly as (

    select * from {{ ref('stg_dynamo__label_overview_weekly') }}

),

responses as (

    select workspace_id, requested_on as period_start, response, fetched_at from daily
    union all
    select workspace_id, week_start as period_start, response, fetched_at from weekly

),

reported as (

    select
        responses.workspace_id,
        labels.key as custom_label_id,
        labels.value ->> 'name' as custom_label_name,
        labels.value ->> 'color' as custom_label_color,
        responses.period_start,
        responses.fetched_at
    from responses,
        json_each(responses.response -> 'customLabels') as labels

)

select * from reported
