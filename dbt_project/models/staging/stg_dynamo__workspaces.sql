with

source as (

    select * from {{ read_landing('landing', 'workspaces') }}

),

renamed as (

    select
        ----------  ids
        id as workspace_id,

        ---------- dimensions
        name as workspace_name,
        type as workspace_type,
        "vipIndicator" as vip_indicator,

        ---------- booleans
        coalesce(type = 'VIP', false) as is_vip,
        coalesce("vipIndicatorInProcess", false) as is_vip_indicator_in_process

    from source

)

select * from renamed
