-- label_rate's denominator: a day's user messages once per label, so that label_rate can be
-- grouped by label or filtered to one (a message-grain count cannot: a message without the
-- label has no label row to group by). Every label of the warehouse, so a label's rate over
-- several channels divides by all their messages, where it appeared or not.
with

user_messages as (

    select * from {{ ref('fct_user_messages') }}

),

labeled_messages as (

    select * from {{ ref('fct_labeled_messages') }}

),

daily_user_messages as (

    select
        workspace_id,
        channel_id,
        sent_on,
        count(*) as user_messages
    from user_messages
    group by all

),

labels as (

    select distinct label
    from labeled_messages

),

baseline as (

    select
        daily_user_messages.workspace_id,
        daily_user_messages.channel_id,
        daily_user_messages.sent_on,
        labels.label,
        daily_user_messages.user_messages
    from daily_user_messages
    cross join labels

)

select
    workspace_id,
    channel_id,
    sent_on,
    label,
    user_messages
from baseline
