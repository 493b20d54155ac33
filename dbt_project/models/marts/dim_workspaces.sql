with

workspaces as (

    select * from {{ ref('stg_dynamo__workspaces') }}

)

select
    workspace_id,
    workspace_name,
    workspace_type,
    vip_indicator,
    is_vip,
    is_vip_indicator_in_process
from workspaces
