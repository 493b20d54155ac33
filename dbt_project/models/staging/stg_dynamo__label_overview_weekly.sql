with

source as (

    select * from {{ read_landing('landing', 'label_overview_weekly') }}

),

renamed as (

    select
        ----------  ids
        workspace_id,
        medium_id as channel_id,
        "runId" as run_id,

        ---------- dimensions
        request,
        body::json as response,

        ---------- timestamps
        week as week_start,
        strptime("fetchedAt", '%Y-%m-%dT%H:%M:%S.%gZ') as fetched_at

    from source

)

select * from renamed
