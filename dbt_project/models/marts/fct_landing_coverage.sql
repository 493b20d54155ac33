{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_run_days('day') }}",
) }}

-- The coverage ledger: one row per workspace, channel and UTC day with anything landed. A day
-- with no row was never pulled; a day whose messages were landed with none is "pulled and
-- empty" (messages_landed, user_messages = 0). Incremental like the facts, so it describes
-- exactly the days the marts hold.
with

message_partitions as (

    select * from {{ ref('stg_dynamo__vip_message_partitions') }}

),

message_fetches as (

    select * from {{ ref('stg_dynamo__vip_message_fetches') }}

),

responses as (

    select * from {{ ref('stg_dynamo__label_overview_daily') }}

),

activity as (

    select * from {{ ref('fct_activity_daily') }}

),

landed_messages as (

    select
        message_partitions.workspace_id,
        message_partitions.channel_id,
        message_partitions.sent_on as day,
        message_fetches.fetched_at,
        message_fetches.run_id
    from message_partitions
    left join message_fetches using (workspace_id, channel_id, sent_on)
    where {{ run_days_predicate('message_partitions.sent_on') }}

),

landed_responses as (

    select
        workspace_id,
        channel_id,
        requested_on as day,
        fetched_at,
        run_id
    from responses
    where {{ run_days_predicate('requested_on') }}

),

counted as (

    select workspace_id, channel_id, day, user_messages
    from activity
    where counted_from = 'messages'
        and {{ run_days_predicate('day') }}

),

final as (

    select
        workspace_id,
        channel_id,
        day,
        landed_messages.day is not null as messages_landed,
        counted.user_messages,
        landed_messages.fetched_at as messages_fetched_at,
        landed_messages.run_id as messages_run_id,
        landed_responses.day is not null as label_overview_landed,
        landed_responses.fetched_at as label_overview_fetched_at,
        landed_responses.run_id as label_overview_run_id
    from landed_messages
    full outer join landed_responses using (workspace_id, channel_id, day)
    left join counted using (workspace_id, channel_id, day)

)

select
    workspace_id,
    channel_id,
    day,
    messages_landed,
    user_messages,
    messages_fetched_at,
    messages_run_id,
    label_overview_landed,
    label_overview_fetched_at,
    label_overview_run_id
from final
