with

source as (

    select * from {{ landed_partitions('landing', 'vip_messages') }}

),

renamed as (

    select
        ----------  ids
        workspace_id,
        medium_id as channel_id,

        ---------- dimensions
        file as landing_file,

        ---------- timestamps
        day as sent_on

    from source

)

select * from renamed
