-- A channel can be connected to several workspaces: one row per workspace and channel.
with

channels as (

    select * from {{ ref('stg_dynamo__channels') }}

)

select
    workspace_id,
    channel_id,
    channel_name,
    channel_type
from channels
