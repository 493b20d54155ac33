{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('day') }}",
) }}

-- Every pulled day has a row, zeros included, so label rates can divide by it.
with

user_messages as (

    select * from {{ ref('fct_user_messages') }}

),

message_partitions as (

    select * from {{ ref('stg_dynamo__vip_message_partitions') }}

),

api_activity as (

    select * from {{ ref('int_api_activity') }}

),

message_activity as (

    select
        workspace_id,
        channel_id,
        sent_on,
        count(*) as user_messages,
        count(distinct conversation_id) as active_conversations
    from user_messages
    where {{ run_days_predicate('sent_on') }}
    group by all

),

from_messages as (

    select
        message_partitions.workspace_id,
        message_partitions.channel_id,
        message_partitions.sent_on as day,
        coalesce(message_activity.user_messages, 0) as user_messages,
        coalesce(message_activity.active_conversations, 0) as active_conversations,
        'messages' as counted_from
    from message_partitions
    left join message_activity using (workspace_id, channel_id, sent_on)
    where {{ run_days_predicate('message_partitions.sent_on') }}

),

from_api as (

    select
        workspace_id,
        channel_id,
        period_start as day,
        user_messages,
        active_conversations,
        'label_overview' as counted_from
    from api_activity
    where group_by = 'day'
        and {{ run_days_predicate('period_start') }}
        and not exists (
            select 1
            from message_partitions
            where message_partitions.workspace_id = api_activity.workspace_id
                and message_partitions.channel_id = api_activity.channel_id
                and message_partitions.sent_on = api_activity.period_start
        )

),

unioned as (

    select * from from_messages
    union all
    select * from from_api

)

select
    workspace_id,
    channel_id,
    day,
    user_messages,
    active_conversations,
    counted_from
from unioned
