-- Days on which a channel still connected went quiet: its user messages fell below 20 % of
-- the median of its previous 28 landed days (at least 7 of them). A revoked page token looks
-- exactly like this: the pulls succeed and bring almost nothing. The test
-- `warn_quiet_channels` warns on the run's days; the run record and `label-overview status`
-- list them.
with

coverage as (

    select * from {{ ref('fct_landing_coverage') }}

),

channels as (

    select * from {{ ref('dim_channels') }}

),

landed_days as (

    select
        coverage.workspace_id,
        coverage.channel_id,
        coverage.day,
        coverage.user_messages
    from coverage
    inner join channels using (workspace_id, channel_id)
    where coverage.messages_landed

),

with_trailing as (

    select
        *,
        median(user_messages) over previous_days as trailing_median,
        count(*) over previous_days as trailing_days
    from landed_days
    window previous_days as (
        partition by workspace_id, channel_id
        order by day
        range between interval 28 days preceding and interval 1 day preceding
    )

)

select
    workspace_id,
    channel_id,
    day,
    user_messages,
    trailing_median::double as trailing_median,
    trailing_days
from with_trailing
where trailing_days >= 7
    and user_messages < 0.2 * trailing_median
