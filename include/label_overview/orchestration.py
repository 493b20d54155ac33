"""Task bodies for the Airflow DAGs: plain functions over JSON-friendly values.

The DAG files only wire these into tasks; everything they return goes to XCom, so nothing
here returns a secret, message text or a user name.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from label_overview import extract
from label_overview.dynamo.errors import DynamoHTTPError
from label_overview.landing import LandingError
from label_overview.pipeline import publish
from label_overview.settings import Secret, Settings, SettingsError
from label_overview.transform import dbt_build
from label_overview.windows import Window, WindowError, parse_day, with_lookback

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "dynamo_default"
SNAPSHOTS_ALIAS = "label_overview_snapshots"


class DiscoveryError(RuntimeError):
    """A workspace's channels could not be listed this run; a rerun retries it."""


class PublishSkipped(RuntimeError):
    """A workspace's extraction failed this run, so its snapshots were not republished."""


# Errors a retry cannot fix: bad settings or input, and the API's final (non-429) 4xx answers.
FINAL_ERRORS = (
    SettingsError,
    WindowError,
    LandingError,
    LookupError,
    DynamoHTTPError,
    DiscoveryError,
    PublishSkipped,
)


def settings_from_airflow(conn_id: str | None = None) -> Settings:
    """Settings from the Dynamo connection (host = base URL, login = key, password = secret)
    and Airflow Variables ``label_overview_home`` / ``label_overview_lookback_days`` /
    ``label_overview_mode`` (falling back to the environment and its defaults)."""
    from airflow.sdk import BaseHook, Variable

    conn_id = conn_id or os.environ.get("LABEL_OVERVIEW_CONN_ID", DEFAULT_CONN_ID)
    connection = BaseHook.get_connection(conn_id)
    base_url = connection.host or ""
    if base_url and "://" not in base_url:
        port = f":{connection.port}" if connection.port else ""
        path = f"/{connection.schema}" if connection.schema else ""
        base_url = f"https://{base_url}{port}{path}"
    settings = Settings.from_env()
    changes: dict[str, Any] = {
        "api_base_url": base_url,
        "api_key": connection.login or "",
        "api_secret": Secret(connection.password or ""),
    }
    for variable, name, cast in (
        ("label_overview_home", "home", lambda v: Path(v).absolute()),
        ("label_overview_lookback_days", "lookback_days", int),
        ("label_overview_mode", "mode", str),
    ):
        value = Variable.get(variable, default=None)
        if value is not None:
            try:
                changes[name] = cast(value)
            except ValueError:
                raise SettingsError(
                    f"Airflow Variable {variable} is malformed: {value!r}"
                ) from None
    settings = settings.with_changes(**changes)
    settings.require_api()
    return settings


def daily_window(target_day: dt.date, lookback_days: int) -> Window:
    """The days a daily run pulls and rebuilds: the target day and the lookback before it."""
    return with_lookback(Window(target_day, target_day), lookback_days)


def discover(settings: Settings, workspace_ids: Sequence[str] | None = None) -> list[dict]:
    """The VIP workspace × channel pairs to pull, as JSON-friendly dicts.

    A workspace whose channels could not be listed gets one entry with ``medium_id`` None and
    the error, so its own extract and publish tasks fail while the others go on.
    """
    with extract.open_client(settings) as client:
        discovery = extract.discover_pairs(client, settings, workspace_ids)
    pairs = [{"workspace_id": p.workspace_id, "medium_id": p.medium_id} for p in discovery.pairs]
    pairs += [
        {"workspace_id": workspace_id, "medium_id": None, "discovery_error": error}
        for workspace_id, error in sorted(discovery.failed_workspaces.items())
    ]
    log.info("%d pairs in %d workspaces", len(pairs), len({p["workspace_id"] for p in pairs}))
    return pairs


def extract_one(settings: Settings, pair: Mapping[str, str], from_day: str, to_day: str) -> dict:
    """Pull and land one pair; returns what was landed (ids and counts only).

    Raises:
        DiscoveryError: the pair stands for a workspace whose channels could not be listed.
    """
    if pair.get("discovery_error"):
        raise DiscoveryError(f"workspace {pair['workspace_id']}: {pair['discovery_error']}")
    window = Window(parse_day(from_day), parse_day(to_day))
    with extract.open_client(settings) as client:
        landed = extract.extract_pair(
            client, settings, extract.Pair(pair["workspace_id"], pair["medium_id"]), window
        )
    return {
        "workspace_id": landed.pair.workspace_id,
        "medium_id": landed.pair.medium_id,
        "messages": landed.messages,
        "overview_responses": landed.overview_responses,
    }


def build(settings: Settings, from_day: str, to_day: str) -> str:
    """One ``dbt build`` for the run's days; returns its one-line summary."""
    return str(dbt_build(settings, Window(parse_day(from_day), parse_day(to_day))))


def publish_one(
    settings: Settings,
    workspace_id: str,
    day: str,
    pairs: Iterable[Mapping[str, str]],
    extracted: Iterable[Mapping[str, Any] | None],
) -> dict:
    """Publish one workspace's snapshots, only if every one of its pairs was extracted this run.

    Raises:
        PublishSkipped: some pair of the workspace failed to extract, so the warehouse may
            hold stale days for it; its previous snapshots stay as they were.
    """
    done = {(e["workspace_id"], e["medium_id"]) for e in extracted if e}
    missing = sorted(
        f"{p['workspace_id']}/{p['medium_id'] or '*'}"
        for p in pairs
        if p["workspace_id"] == workspace_id and (p["workspace_id"], p["medium_id"]) not in done
    )
    if missing:
        raise PublishSkipped(
            f"workspace {workspace_id}: extract failed for {', '.join(missing)}; not publishing"
        )
    files = publish(settings, [workspace_id], parse_day(day))
    manifest = settings.exports_dir / workspace_id / "manifest.json"
    return {"workspace_id": workspace_id, "files": files, "manifest": str(manifest)}
