"""The TaskFlow tasks both DAGs wire: plan → extract (mapped per pair) → build → publish
(mapped per workspace). Bodies stay one call into ``orchestration``; imports happen at run time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk import Asset, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

API_POOL = "dynamo_api"
# Each request ends at its deadline (LABEL_OVERVIEW_REQUEST_DEADLINE_S); a pair whose pull
# still runs this long is stopped and retried like any failure.
EXTRACT_TIMEOUT = dt.timedelta(hours=2)
WRITER_POOL = "duckdb_writer"
# The Celery queue of the one host that owns the warehouse: the steps that read or write it,
# or the data root's mirror of the bucket (storage.py), run there; extracts run on any worker.
# Executors without queues (the embedded default's) ignore it.
WRITER_QUEUE = os.environ.get("LABEL_OVERVIEW_WRITER_QUEUE", "duckdb")
# One asset, one event per published workspace (each mapped publish task emits its own): the
# extra names the workspace, day, manifest and files, so consumers schedule on new snapshots
# and pick the workspaces they care about (dags/label_overview_snapshot_consumers.py).
SNAPSHOTS = Asset(name="label_overview_snapshots", uri="label-overview://snapshots")
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=10),
}


@contextmanager
def _no_retry_on_final_errors() -> Iterator[None]:
    """Fail at once, without Airflow's retries, on errors no retry can fix (bad input, 4xx)."""
    from label_overview.orchestration import FINAL_ERRORS

    try:
        yield
    except FINAL_ERRORS as error:
        raise AirflowFailException(str(error)) from None


@task(queue=WRITER_QUEUE, multiple_outputs=False)
def plan(from_day: str | None = None, to_day: str | None = None) -> dict:
    """List the pairs and plan each one's days.

    With no days given (the daily DAG), the target day is the run's data interval start (a
    UTC day already over when the run starts).
    """
    from label_overview import lineage, orchestration

    context = get_current_context()
    # A manual DAG's runs have no data interval: only the schedule's runs read it.
    target_day = None if from_day or to_day else context["data_interval_start"].date()
    with _no_retry_on_final_errors():
        settings = orchestration.settings_from_airflow(api=True)
        lineage.declare(
            context,
            lineage.api(settings, "/workspaces", "/channels"),
            lineage.files(settings, [settings.root.landing / "reference"]),
        )
        return orchestration.plan(settings, from_day, to_day, target_day, context["run_id"])


# Mapped tasks expand over a task's whole return value, so each list the plan holds gets a task.
@task(multiple_outputs=False)
def list_pairs(planned: dict) -> list[dict]:
    return planned["pairs"]


@task(multiple_outputs=False)
def list_workspaces(planned: dict) -> list[str]:
    return planned["workspaces"]


@task(
    pool=API_POOL,
    execution_timeout=EXTRACT_TIMEOUT,
    map_index_template="{{ pair.workspace_id }}/{{ pair.channel_id }}",
    multiple_outputs=False,
)
def extract(pair: dict) -> dict:
    """Pull and land one workspace × channel pair's planned days."""
    from label_overview import lineage, orchestration

    context = get_current_context()
    with _no_retry_on_final_errors():
        settings = orchestration.settings_from_airflow(api=True)
        lineage.declare(
            context,
            lineage.api(settings, "/vip-messages", "/vip-messages/export", "/label-overview"),
            lineage.files(settings, orchestration.pair_folders(settings, pair)),
        )
        return orchestration.extract_one(settings, pair, context["run_id"])


@task(queue=WRITER_QUEUE, pool=WRITER_POOL, trigger_rule="all_done_min_one_success")
def build(planned: dict) -> str:
    """One ``dbt build`` for the planned days; runs even when some pairs failed, so the others
    publish."""
    from label_overview import lineage, orchestration

    context = get_current_context()
    settings = orchestration.settings_from_airflow(api=False)
    summary = orchestration.build(settings, **planned["build_window"], run_id=context["run_id"])
    lineage.declare(
        context,
        lineage.landing_tables(settings),
        lineage.relations(settings, summary.relations),
    )
    return str(summary)


# All done: when every pull fails for days, this is the task that says so.
@task(queue=WRITER_QUEUE, pool=WRITER_POOL, trigger_rule="all_done")
def freshness() -> str:
    """dbt source freshness of the landing: fails when the newest fetch is too old."""
    from label_overview import orchestration

    with _no_retry_on_final_errors():
        return orchestration.freshness(orchestration.settings_from_airflow(api=False))


# Mapped per workspace, each task a batch of one, where the CLI publishes every workspace in one
# batch: Airflow emits a task's outlet events only when it succeeds, so one task for all would
# fail with any one workspace and drop the events of those that did publish.
@task(
    queue=WRITER_QUEUE,
    outlets=[SNAPSHOTS],
    map_index_template="{{ workspace_id }}",
    multiple_outputs=False,
)
def publish(workspace_id: str, planned: dict, pairs: list[dict]) -> dict:
    """Publish one workspace's trailing-window snapshots and announce them as an asset event."""
    from label_overview import lineage, orchestration
    from label_overview.documents import RELATIONS_READ

    context = get_current_context()
    extracted = context["ti"].xcom_pull(task_ids="extract", map_indexes=range(len(pairs)))
    settings = orchestration.settings_from_airflow(api=False)
    with _no_retry_on_final_errors():
        published = orchestration.publish_one(
            settings,
            workspace_id,
            planned["publish_day"],
            pairs,
            extracted or [],
            context["run_id"],
        )
    context["outlet_events"][SNAPSHOTS].extra = orchestration.snapshot_event_extra(
        published, planned["publish_day"]
    )
    lineage.declare(
        context,
        lineage.relations(settings, RELATIONS_READ),
        lineage.files(settings, orchestration.published_files(settings, workspace_id)),
    )
    return published


# A teardown: it runs however the run went, and its own state never decides the run's.
@task(queue=WRITER_QUEUE, trigger_rule="all_done", retries=0)
def finish() -> list[str]:
    """Record the run's end in its run history (``steps.finish``); returns its problems."""
    from label_overview import notify, orchestration

    context = get_current_context()
    settings = orchestration.settings_from_airflow(api=False)
    problems, warnings = orchestration.finish(settings, context["run_id"])
    # A failed run's alert (the DAG's failure callback) lists its warnings; a run that succeeded
    # with some gets one of its own.
    if warnings and not problems:
        notify.alert_warnings(
            context["dag"].dag_id, context["run_id"], notify.run_day(context), warnings
        )
    return problems


@task(queue=WRITER_QUEUE, retries=1)
def check_lateness() -> str:
    """Email once unless the run for the day before this run's deadline has finished."""
    from label_overview import orchestration

    # The run at D+1 06:00 has the data interval starting on day D: D's run is the one due.
    day = get_current_context()["data_interval_start"].date()
    return orchestration.check_lateness(orchestration.settings_from_airflow(api=False), day)


@task(inlets=[SNAPSHOTS])
def log_published_snapshots() -> list[str]:
    """Name each workspace's new manifest, from the snapshot events that triggered this run."""
    from label_overview import orchestration

    context = get_current_context()
    events = list(context["triggering_asset_events"][SNAPSHOTS])
    # An event that lands while Airflow creates this run is not among its triggering events and
    # triggers no run of its own (the queue row it shared goes with this run's): read the
    # events since this run was triggered too, so no workspace waits for the next publication.
    events += context["inlet_events"][SNAPSHOTS].after(context["dag_run"].run_after.isoformat())
    return orchestration.log_snapshot_events(
        [event.extra for event in sorted(events, key=lambda event: event.timestamp)]
    )


def wire(
    from_day: str | None = None, to_day: str | None = None, *, check_freshness: bool = False
) -> None:
    """Lay the task graph inside a DAG; the window comes from the arguments or the schedule.
    ``check_freshness`` adds the landing's freshness check after the build."""
    planned = plan(from_day, to_day)
    pairs = list_pairs(planned)
    extracted = extract.expand(pair=pairs)
    built = build(planned)
    published = publish.partial(planned=planned, pairs=pairs).expand(
        workspace_id=list_workspaces(planned)
    )
    extracted >> built >> published
    ends = [published]
    if check_freshness:
        ends.append(built >> freshness())
    ends >> finish().as_teardown()
