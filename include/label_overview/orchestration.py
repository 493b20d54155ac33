"""Task bodies for the Airflow DAGs: one call of one step of ``steps`` each, over JSON-friendly
values.

The DAG files only wire these into tasks; everything they return goes to XCom, so nothing
here returns a secret, message text or a user name.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from label_overview import landing, notify, runs, steps, storage
from label_overview.coverage import CoverageError
from label_overview.dynamo.errors import DynamoHTTPError
from label_overview.extract import Pair
from label_overview.files import UnsafeIdError
from label_overview.settings import Secret, Settings, SettingsError
from label_overview.transform import BuildSummary, FreshnessError, source_freshness
from label_overview.windows import GROUP_BYS, Window, WindowError, parse_day

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "dynamo_default"
# The object storage's endpoint and keys, where the data root's shared parts live in a bucket.
STORAGE_CONN_ID = "label_overview_storage"


class DiscoveryError(RuntimeError):
    """A workspace's channels could not be listed this run; a rerun retries it."""


class PublishFailed(RuntimeError):
    """A workspace, or some of its pairs, was not published this run; the message says why."""


# Errors a retry cannot fix: bad settings or input, and the API's final (non-429) 4xx answers.
FINAL_ERRORS = (
    SettingsError,
    WindowError,
    UnsafeIdError,
    LookupError,
    DynamoHTTPError,
    DiscoveryError,
    PublishFailed,
    CoverageError,
    FreshnessError,
)


def settings_from_airflow(*, api: bool, conn_id: str | None = None) -> Settings:
    """Settings from Airflow Variables ``label_overview_home`` / ``label_overview_lookback_days``
    / ``label_overview_mode`` / ``label_overview_storage_url`` (falling back to the environment
    and its defaults); with a storage URL, the storage connection, where it exists (login =
    access key, password = secret key, extra ``endpoint_url``); and, when the task calls the
    ``api``, the Dynamo connection (host = base URL, login = key, password = secret)."""
    from airflow.sdk import BaseHook, Variable

    changes: dict[str, Any] = {}
    if api:
        connection = BaseHook.get_connection(
            conn_id or os.environ.get("LABEL_OVERVIEW_CONN_ID", DEFAULT_CONN_ID)
        )
        base_url = connection.host or ""
        if base_url and "://" not in base_url:
            port = f":{connection.port}" if connection.port else ""
            path = f"/{connection.schema}" if connection.schema else ""
            base_url = f"https://{base_url}{port}{path}"
        changes.update(
            api_base_url=base_url,
            api_key=connection.login or "",
            api_secret=Secret(connection.password or ""),
        )
    for variable, name, cast in (
        ("label_overview_home", "home", lambda v: Path(v).absolute()),
        ("label_overview_lookback_days", "lookback_days", int),
        ("label_overview_mode", "mode", str),
        ("label_overview_storage_url", "storage_url", str),
    ):
        value = Variable.get(variable, default=None)
        if value is not None:
            try:
                changes[name] = cast(value)
            except ValueError:
                raise SettingsError(
                    f"Airflow Variable {variable} is malformed: {value!r}"
                ) from None
    settings = Settings.from_env().with_changes(**changes)
    if settings.storage_url:
        settings = settings.with_changes(**_storage_access(BaseHook))
    if api:
        settings.require_api()
    return settings


def _storage_access(hook: Any) -> dict[str, Any]:
    """The storage connection's endpoint and keys; none where it does not exist (botocore's
    own then: its environment variables, ~/.aws, an instance role)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = hook.get_connection(STORAGE_CONN_ID)
    except AirflowNotFoundException:
        return {}
    return {
        "storage_endpoint_url": connection.extra_dejson.get("endpoint_url", ""),
        "storage_key": connection.login or "",
        "storage_secret": Secret(connection.password or ""),
    }


def plan(
    settings: Settings,
    from_day: str | None,
    to_day: str | None,
    target_day: dt.date | None,
    run_id: str,
) -> dict:
    """The run's plan: the window asked for (the backfill's params, else the daily run's
    target day), each pair with the days it pulls, and the days dbt rebuilds.

    A workspace whose channels could not be listed gets one pair entry with ``channel_id`` None
    and the error, so its own extract and publish tasks fail while the others go on.
    """
    if from_day or to_day:
        request = Window.parse(from_day or "", to_day or "")
    elif target_day is not None:
        request = Window(target_day, target_day)
    else:
        raise WindowError("a run needs from and to, or a data interval")
    with storage.synced(settings, storage.plan_sync(settings.root, run_id)):
        run_plan = steps.plan(settings, request, run_id=run_id)
    pairs: list[dict[str, Any]] = [
        {
            "workspace_id": pair_plan.pair.workspace_id,
            "channel_id": pair_plan.pair.channel_id,
            "windows": [[str(w.first_day), str(w.last_day)] for w in pair_plan.windows],
        }
        for pair_plan in run_plan.pairs
    ]
    pairs += [
        {"workspace_id": workspace_id, "channel_id": None, "discovery_error": error}
        for workspace_id, error in sorted(run_plan.failed_workspaces.items())
    ]
    build_window = run_plan.build_window
    return {
        "pairs": pairs,
        "workspaces": run_plan.workspace_ids,
        "build_window": {
            "from_day": str(build_window.first_day),
            "to_day": str(build_window.last_day),
        },
        "publish_day": str(run_plan.publish_day),
    }


def extract_one(settings: Settings, pair: Mapping[str, Any], run_id: str) -> dict:
    """Pull and land one pair's planned days; returns what was landed (ids and counts only).

    Raises:
        DiscoveryError: the pair stands for a workspace whose channels could not be listed.
    """
    if pair.get("discovery_error"):
        raise DiscoveryError(f"workspace {pair['workspace_id']}: {pair['discovery_error']}")
    pair_plan = steps.PairPlan(
        Pair(pair["workspace_id"], pair["channel_id"]), _windows(pair["windows"])
    )
    # With a storage, the pair lands in a scratch data root that is pushed to the bucket.
    with storage.scratch(settings, storage.extract_sync(settings.root)) as scratch_settings:
        landed = steps.extract(scratch_settings, pair_plan, run_id)
    return {
        "workspace_id": landed.pair.workspace_id,
        "channel_id": landed.pair.channel_id,
        "messages": landed.messages,
        "overview_responses": landed.overview_responses,
    }


def pair_folders(settings: Settings, pair: Mapping[str, Any]) -> list[Path]:
    """The landing folders an extract of ``pair`` writes (lineage names them)."""
    if pair.get("discovery_error"):
        return []
    workspace_id, channel_id = pair["workspace_id"], pair["channel_id"]
    return [
        landing.message_partitions_dir(settings.root.landing, workspace_id, channel_id),
        *(
            landing.overview_partitions_dir(settings.root.landing, workspace_id, channel_id, g)
            for g in GROUP_BYS
        ),
    ]


def published_files(settings: Settings, workspace_id: str) -> list[Path]:
    """A workspace's manifest and every snapshot it lists (lineage names them)."""
    manifest = settings.root.manifest(workspace_id)
    listed = json.loads(manifest.read_text())["files"]
    return [manifest, *(manifest.parent / entry["path"] for entry in listed)]


def _windows(days: Iterable[Sequence[str]]) -> tuple[Window, ...]:
    """A pair's planned windows from their XCom form, [["2026-01-05", "2026-01-05"], ...]."""
    return tuple(Window(parse_day(first), parse_day(last)) for first, last in days)


def build(settings: Settings, from_day: str, to_day: str, run_id: str) -> BuildSummary:
    """One ``dbt build`` for the planned days."""
    with storage.synced(settings, storage.build_sync(settings.root, run_id)):
        return steps.build(settings, Window(parse_day(from_day), parse_day(to_day)), run_id)


def freshness(settings: Settings) -> str:
    """dbt source freshness of the landing (``transform.source_freshness``)."""
    with storage.synced(settings, storage.freshness_sync(settings.root)):
        return source_freshness(settings)


def publish_one(
    settings: Settings,
    workspace_id: str,
    day: str,
    pairs: Iterable[Mapping[str, Any]],
    extracted: Iterable[Mapping[str, Any] | None],
    run_id: str,
) -> dict:
    """Publish one workspace's snapshots (``steps.publish``); ``extracted`` holds the extract
    tasks' results, None for those that failed.

    Raises:
        PublishFailed: the workspace, or some of its pairs, was not published (named).
    """
    done = {(e["workspace_id"], e["channel_id"]) for e in extracted if e}
    failed = {
        (p["workspace_id"], p["channel_id"]): _windows(p.get("windows", []))
        for p in pairs
        if (p["workspace_id"], p["channel_id"]) not in done
    }
    with storage.synced(settings, storage.publish_sync(settings.root, run_id, workspace_id)):
        publication = steps.publish(settings, [workspace_id], parse_day(day), failed, run_id=run_id)
    if publication.errors():
        raise PublishFailed("; ".join(publication.errors()))
    return {
        "workspace_id": workspace_id,
        "files": publication.files,
        "manifest": storage.located(settings, settings.root.manifest(workspace_id)),
    }


def finish(settings: Settings, run_id: str) -> tuple[list[str], list[str]]:
    """Record the run's end (``steps.finish``); returns its problems and its warnings."""
    with storage.synced(settings, storage.run_history_sync(settings.root, run_id, writes=True)):
        problems = steps.finish(settings, run_id)
        return problems, runs.warnings(runs.read_records(settings.root, run_id))


def check_lateness(settings: Settings, day: dt.date) -> str:
    """The lateness check of ``day``'s run (``notify.alert_if_late``)."""
    with storage.synced(settings, storage.run_history_sync(settings.root)):
        return notify.alert_if_late(settings, day)


def snapshot_event_extra(published: Mapping[str, Any], day: str) -> dict[str, Any]:
    """What an event on the snapshots asset says: the workspace, the day its trailing window
    ends on, its manifest and the number of snapshots written (ids and counts only)."""
    return {
        "workspace_id": published["workspace_id"],
        "day": day,
        "manifest": published["manifest"],
        "files": published["files"],
    }


def log_snapshot_events(extras: Iterable[Mapping[str, Any]]) -> list[str]:
    """Log one line per snapshot event (``snapshot_event_extra``) and return them: where a
    consumer would push each workspace's new snapshots elsewhere."""
    lines = [
        f"workspace {extra['workspace_id']} published {extra['files']} snapshots of the window"
        f" ending {extra['day']}: manifest {extra['manifest']}"
        for extra in extras
    ]
    for line in lines:
        log.info("%s", line)
    return lines
