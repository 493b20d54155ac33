{{ config(materialized='view') }}

-- A view, not a table: a run's records land while it runs and after its build, and a run
-- killed mid-way must show as unfinished without waiting for another build.
with

run_steps as (

    select * from {{ ref('stg_pipeline__run_steps') }}

),

plans as (

    select
        run_id,
        from_day,
        to_day,
        started_at,
        pairs_planned,
        failed_workspaces,
        seconds as plan_seconds,
        error as plan_error
    from run_steps
    where step = 'plan'

),

extracts as (

    select
        run_id,
        count(*) filter (where error is null) as pairs_landed,
        count(*) filter (where error is not null) as pairs_failed,
        list(workspace_id || '/' || channel_id || ': ' || error order by workspace_id, channel_id)
            filter (where error is not null) as failed_pairs,
        coalesce(sum(messages), 0)::bigint as messages_landed,
        coalesce(sum(responses), 0)::bigint as responses_landed,
        date_diff('millisecond', min(started_at), max(finished_at)) / 1000 as extract_seconds
    from run_steps
    where step = 'extract'
    group by run_id

),

builds as (

    select
        run_id,
        models as dbt_models,
        tests_passed as dbt_tests_passed,
        tests_warned as dbt_tests_warned,
        warnings,
        seconds as build_seconds,
        error as build_error
    from run_steps
    where step = 'build'

),

publications as (

    select
        run_id,
        coalesce(sum(files), 0)::bigint as files_published,
        date_diff('millisecond', min(started_at), max(finished_at)) / 1000 as publish_seconds
    from run_steps
    where step = 'publish'
    group by run_id

),

finishes as (

    select
        run_id,
        status,
        finished_at,
        errors
    from run_steps
    where step = 'finish'

),

runs as (

    select
        plans.run_id,
        split_part(plans.run_id, '__', 1) as triggered_by,
        coalesce(finishes.status, 'unfinished') as status,
        plans.from_day,
        plans.to_day,
        plans.pairs_planned,
        coalesce(extracts.pairs_landed, 0) as pairs_landed,
        coalesce(extracts.pairs_failed, 0) + len(coalesce(plans.failed_workspaces, []))
            as pairs_failed,
        list_concat(coalesce(plans.failed_workspaces, []), coalesce(extracts.failed_pairs, []))
            as failed_pairs,
        coalesce(extracts.messages_landed, 0) as messages_landed,
        coalesce(extracts.responses_landed, 0) as responses_landed,
        builds.dbt_models,
        builds.dbt_tests_passed,
        builds.dbt_tests_warned,
        coalesce(builds.warnings, []) as warnings,
        coalesce(publications.files_published, 0) as files_published,
        coalesce(finishes.errors, []) as errors,
        plans.plan_seconds,
        extracts.extract_seconds,
        builds.build_seconds,
        publications.publish_seconds,
        plans.started_at,
        finishes.finished_at
    from plans
    left join extracts using (run_id)
    left join builds using (run_id)
    left join publications using (run_id)
    left join finishes using (run_id)

)

select
    run_id,
    triggered_by,
    status,
    from_day,
    to_day,
    pairs_planned,
    pairs_landed,
    pairs_failed,
    failed_pairs,
    messages_landed,
    responses_landed,
    dbt_models,
    dbt_tests_passed,
    dbt_tests_warned,
    warnings,
    files_published,
    errors,
    plan_seconds,
    extract_seconds,
    build_seconds,
    publish_seconds,
    started_at,
    finished_at
from runs
