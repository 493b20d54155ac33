{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('day') }}",
) }}

-- The daily label counts we publish (fct_label_counts_daily, from the landed messages) against
-- the API's own daily responses, for every day both were pulled. A non-zero difference means
-- the two pulls disagree (late labels between them, or a bug): rerun the day.
with

label_counts_daily as (

    select * from {{ ref('fct_label_counts_daily') }}

),

message_partitions as (

    select * from {{ ref('stg_dynamo__vip_message_partitions') }}

),

api_label_counts as (

    select * from {{ ref('int_api_label_counts') }}

),

api_activity as (

    select * from {{ ref('int_api_activity') }}

),

compared_days as (

    select
        message_partitions.workspace_id,
        message_partitions.channel_id,
        message_partitions.sent_on as day
    from message_partitions
    inner join api_activity
        on api_activity.group_by = 'day'
        and api_activity.workspace_id = message_partitions.workspace_id
        and api_activity.channel_id = message_partitions.channel_id
        and api_activity.period_start = message_partitions.sent_on
    where {{ run_days_predicate('message_partitions.sent_on') }}

),

-- The daily mart's counts of the days whose messages were landed: the numbers we publish.
from_messages as (

    select
        workspace_id,
        channel_id,
        day,
        label,
        message_count,
        unique_conversations
    from label_counts_daily
    where counted_from = 'messages'
        and {{ run_days_predicate('day') }}

),

from_api as (

    select
        workspace_id,
        channel_id,
        period_start as day,
        label,
        message_count,
        unique_conversations
    from api_label_counts
    where group_by = 'day'
        and {{ run_days_predicate('period_start') }}

),

both_counts as (

    select
        coalesce(from_messages.workspace_id, from_api.workspace_id) as workspace_id,
        coalesce(from_messages.channel_id, from_api.channel_id) as channel_id,
        coalesce(from_messages.day, from_api.day) as day,
        coalesce(from_messages.label, from_api.label) as label,
        coalesce(from_messages.message_count, 0) as message_count,
        coalesce(from_api.message_count, 0) as api_message_count,
        coalesce(from_messages.unique_conversations, 0) as unique_conversations,
        coalesce(from_api.unique_conversations, 0) as api_unique_conversations
    from from_messages
    full outer join from_api
        using (workspace_id, channel_id, day, label)

),

compared as (

    select both_counts.*
    from both_counts
    inner join compared_days using (workspace_id, channel_id, day)

)

select
    workspace_id,
    channel_id,
    day,
    label,
    message_count,
    api_message_count,
    message_count - api_message_count as message_count_difference,
    unique_conversations,
    api_unique_conversations,
    unique_conversations - api_unique_conversations as unique_conversations_difference
from compared
