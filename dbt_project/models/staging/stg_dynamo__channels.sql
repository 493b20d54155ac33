with

source as (

    select * from {{ read_landing('landing', 'channels') }}

),

renamed as (

    select
        ----------  ids
        id as channel_id,
        workspace_id,

        ---------- dimensions
        name as channel_name,
        type as channel_type

    from source

)

select * from renamed
