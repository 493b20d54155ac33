with

source as (

    select * from {{ read_landing('pipeline', 'run_steps') }}

),

renamed as (

    select
        ---------- ids
        run_id,
        step,
        workspace_id,
        channel_id,

        ---------- dimensions
        from_day,
        to_day,
        windows,
        status,
        error,
        failed_workspaces,
        warnings,
        errors,

        ---------- measures
        pairs_planned,
        messages,
        responses,
        models,
        tests_passed,
        tests_warned,
        files,
        seconds,

        ---------- timestamps
        strptime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') as started_at,
        strptime(finished_at, '%Y-%m-%dT%H:%M:%S.%gZ') as finished_at

    from source

)

select * from renamed
