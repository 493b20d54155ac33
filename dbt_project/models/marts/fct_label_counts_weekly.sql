{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_weeks('week_start') }}",
) }}

-- Distinct conversations per week come from the message grain, never from summing days.
-- Weeks with no landed message partition take the API's whole-week responses.
with

labeled_messages as (

    select * from {{ ref('fct_labeled_messages') }}

),

message_partitions as (

    select * from {{ ref('stg_dynamo__vip_message_partitions') }}

),

api_label_counts as (

    select * from {{ ref('int_api_label_counts') }}

),

-- The week's coverage, as the activity baseline of the same week counts it.
weekly_activity as (

    select * from {{ ref('fct_activity_weekly') }}

),

from_messages as (

    select
        workspace_id,
        channel_id,
        week_start,
        label,
        count(*) as message_count,
        count(distinct conversation_id) as unique_conversations,
        'messages' as counted_from
    from labeled_messages
    where {{ run_weeks_predicate('week_start') }}
    group by all

),

from_api as (

    select
        workspace_id,
        channel_id,
        period_start as week_start,
        label,
        message_count,
        unique_conversations,
        'label_overview' as counted_from
    from api_label_counts
    where group_by = 'week'
        and {{ run_weeks_predicate('period_start') }}
        and not exists (
            select 1
            from message_partitions
            where message_partitions.workspace_id = api_label_counts.workspace_id
                and message_partitions.channel_id = api_label_counts.channel_id
                and date_trunc('week', message_partitions.sent_on) = api_label_counts.period_start
        )

),

unioned as (

    select * from from_messages
    union all
    select * from from_api

)

select
    unioned.workspace_id,
    unioned.channel_id,
    unioned.week_start,
    unioned.label,
    unioned.message_count,
    unioned.unique_conversations,
    weekly_activity.days_covered,
    unioned.counted_from
from unioned
left join weekly_activity
    on weekly_activity.workspace_id = unioned.workspace_id
    and weekly_activity.channel_id = unioned.channel_id
    and weekly_activity.week_start = unioned.week_start
