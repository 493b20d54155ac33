-- Custom label names and colours as the API last reported them (only label-overview
-- responses carry them), one row per workspace and custom label id.
with

daily as (

    select * from {{ ref('stg_dynamo__label_overview_daily') }}

),

weekly as (

    select * from {{ ref('stg_dynamo__label_overview_weekly') }}

),

responses as (

    select workspace_id, response, fetched_at from daily
    union all
    select workspace_id, response, fetched_at from weekly

),

reported as (

    select
        responses.workspace_id,
        labels.key as custom_label_id,
        labels.value ->> 'name' as custom_label_name,
        labels.value ->> 'color' as custom_label_color,
        responses.fetched_at
    from responses,
        json_each(responses.response -> 'customLabels') as labels

),

latest as (

    select *
    from reported
    qualify row_number() over (
        partition by workspace_id, custom_label_id
        order by fetched_at desc, custom_label_name, custom_label_color
    ) = 1

)

select * from latest
