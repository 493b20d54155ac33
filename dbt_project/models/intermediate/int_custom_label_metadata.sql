-- Custom label names and colours as each landed label-overview response reported them (only
-- those responses carry them), one row per response and custom label id.
with

responses as (

    select * from {{ ref('int_api_responses') }}

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
