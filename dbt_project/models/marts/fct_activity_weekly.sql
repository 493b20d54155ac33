{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_weeks('week_start') }}",
) }}

-- Distinct active conversations per ISO week come from the message grain, never from days.
-- days_covered says how much of the week is behind the numbers, so a partial week (the first
-- of a history, the current one) is never read as a quiet one.
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

pulled_weeks as (

    select
        workspace_id,
        channel_id,
        date_trunc('week', sent_on)::date as week_start,
        count(*)::integer as days_covered
    from message_partitions
    where {{ run_weeks_predicate("date_trunc('week', sent_on)::date") }}
    group by all

),

message_activity as (

    select
        workspace_id,
        channel_id,
        week_start,
        count(*) as user_messages,
        count(distinct conversation_id) as active_conversations
    from user_messages
    where {{ run_weeks_predicate('week_start') }}
    group by all

),

from_messages as (

    select
        pulled_weeks.workspace_id,
        pulled_weeks.channel_id,
        pulled_weeks.week_start,
        coalesce(message_activity.user_messages, 0) as user_messages,
        coalesce(message_activity.active_conversations, 0) as active_conversations,
        pulled_weeks.days_covered,
        'messages' as counted_from
    from pulled_weeks
    left join message_activity using (workspace_id, channel_id, week_start)

),

from_api as (

    select
        workspace_id,
        channel_id,
        period_start as week_start,
        user_messages,
        active_conversations,
        -- A weekly response is pulled for the whole ISO week: it holds the days that had
        -- begun when the API answered.
        least(7, date_diff('day', period_start, fetched_at::date) + 1)::integer as days_covered,
        'label_overview' as counted_from
    from api_activity
    where group_by = 'week'
        and {{ run_weeks_predicate('period_start') }}
        and not exists (
            select 1
            from pulled_weeks
            where pulled_weeks.workspace_id = api_activity.workspace_id
                and pulled_weeks.channel_id = api_activity.channel_id
                and pulled_weeks.week_start = api_activity.period_start
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
    week_start,
    user_messages,
    active_conversations,
    days_covered,
    counted_from
from unioned
