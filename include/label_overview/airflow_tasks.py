"""The TaskFlow tasks both DAGs wire: plan → extract (mapped per pair) → build → publish
(mapped per workspace). Bodies stay one call into ``orchestration``; imports happen at run time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk import Asset, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

API_POOL = "dynamo_api"
WRITER_POOL = "duckdb_writer"
# One asset, one event per workspace and run: its extra names the workspace and its manifest,
# so consumers can schedule on new snapshots and pick the workspaces they care about.
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


@task
def plan(from_day: str | None = None, to_day: str | None = None) -> dict:
    """Fix the run's window.

    With no days given (the daily DAG), the target day is the run's data interval start (a
    UTC day already over when the run starts), extended back by the lookback.
    """
    from label_overview import orchestration
    from label_overview.windows import Window

    with _no_retry_on_final_errors():
        if from_day or to_day:
            window = Window.parse(from_day or "", to_day or "")
        else:
            target_day = get_current_context()["data_interval_start"].date()
            lookback = orchestration.settings_from_airflow().lookback_days
            window = orchestration.daily_window(target_day, lookback)
    return {"from_day": window.first_day.isoformat(), "to_day": window.last_day.isoformat()}


@task
def discover() -> list[dict]:
    """VIP workspace × connected channel pairs, and the reference files the dims read."""
    from label_overview import orchestration

    with _no_retry_on_final_errors():
        return orchestration.discover(orchestration.settings_from_airflow())


@task
def list_workspaces(pairs: list[dict]) -> list[str]:
    return sorted({pair["workspace_id"] for pair in pairs})


@task(pool=API_POOL, map_index_template="{{ pair.workspace_id }}/{{ pair.medium_id }}")
def extract(pair: dict, window: dict) -> dict:
    """Pull and land one workspace × channel pair for the run's window."""
    from label_overview import orchestration

    with _no_retry_on_final_errors():
        return orchestration.extract_one(orchestration.settings_from_airflow(), pair, **window)


@task(pool=WRITER_POOL, trigger_rule="all_done_min_one_success")
def build(window: dict) -> str:
    """One ``dbt build`` for the window; runs even when some pairs failed, so the others publish."""
    from label_overview import orchestration

    return orchestration.build(orchestration.settings_from_airflow(), **window)


@task(outlets=[SNAPSHOTS], map_index_template="{{ workspace_id }}")
def publish(workspace_id: str, window: dict, pairs: list[dict]) -> dict:
    """Publish one workspace's trailing-window snapshots and announce them as an asset event."""
    from label_overview import orchestration

    context = get_current_context()
    extracted = context["ti"].xcom_pull(task_ids="extract", map_indexes=range(len(pairs)))
    with _no_retry_on_final_errors():
        published = orchestration.publish_one(
            orchestration.settings_from_airflow(),
            workspace_id,
            window["to_day"],
            pairs,
            extracted or [],
        )
    context["outlet_events"][SNAPSHOTS].add(
        Asset(
            name=f"label_overview_snapshots__{workspace_id}", uri=f"file://{published['manifest']}"
        ),
        extra={"day": window["to_day"], "files": published["files"]},
    )
    return published


def wire(from_day: str | None = None, to_day: str | None = None) -> None:
    """Lay the task graph inside a DAG; the window comes from the arguments or the schedule."""
    window = plan(from_day, to_day)
    pairs = discover()
    extracted = extract.partial(window=window).expand(pair=pairs)
    built = build(window)
    published = publish.partial(window=window, pairs=pairs).expand(
        workspace_id=list_workspaces(pairs)
    )
    window >> pairs
    extracted >> built >> published
