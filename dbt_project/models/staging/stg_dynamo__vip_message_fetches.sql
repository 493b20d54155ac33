with

source as (

    select * from {{ read_landing('landing', 'vip_message_fetches') }}

),

renamed as (

    select
        ----------  ids
        workspace_id,
        medium_id as channel_id,
        "runId" as run_id,

        ---------- timestamps
        day as sent_on,
        strptime("fetchedAt", '%Y-%m-%dT%H:%M:%S.%gZ') as fetched_at

    from source

)

select * from renamed
