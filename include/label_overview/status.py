"""``label-overview status``: is every workspace × channel landed, fresh and published?

Read from the data root's files alone (the landing, the manifests, the run records), so it
answers while a run writes the warehouse, and on a host that only sees the files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from label_overview import coverage, landing, runs
from label_overview.files import UnsafeIdError
from label_overview.settings import Settings
from label_overview.windows import trailing_window

# dbt's source freshness reads the same variable (dbt_project's sources YAML): one limit.
FRESHNESS_ERROR_HOURS = "LABEL_OVERVIEW_FRESHNESS_ERROR_HOURS"


@dataclass(frozen=True)
class PairStatus:
    """One workspace × channel: what is landed, published and wrong."""

    workspace_id: str
    channel_id: str
    newest_landed_day: str | None
    newest_fetched_at: str | None
    fresh: bool
    missing_days: list[str]
    last_published_at: str | None
    last_error: str | None
    warnings: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.fresh and not self.missing_days and self.last_error is None


def pair_statuses(settings: Settings, now: dt.datetime) -> list[PairStatus]:
    """Every connected channel of every VIP workspace the last listing named."""
    limit = dt.timedelta(hours=float(os.environ.get(FRESHNESS_ERROR_HOURS, "50")))
    latest = _latest_run_records(settings)
    statuses = []
    for workspace_id, channel_id in _listed_pairs(settings.root.landing):
        landed = coverage.landed_days(settings.root.landing, workspace_id, channel_id, "messages")
        newest = max(landed, default=None)
        fetched = _fetched_at(settings.root.landing, workspace_id, channel_id, newest)
        missing = (
            []
            if newest is None
            else [str(day) for day in trailing_window(newest).days() if day not in landed]
        )
        statuses.append(
            PairStatus(
                workspace_id=workspace_id,
                channel_id=channel_id,
                newest_landed_day=None if newest is None else str(newest),
                newest_fetched_at=fetched,
                fresh=fetched is not None and now - _instant(fetched) <= limit,
                missing_days=missing,
                last_published_at=_published_at(settings, workspace_id, channel_id),
                last_error=_last_error(latest, workspace_id, channel_id),
                warnings=[
                    line
                    for record in latest
                    for line in record.get("warnings") or []
                    if line.startswith(f"{workspace_id}/{channel_id} ")
                ],
            )
        )
    return statuses


def render(statuses: list[PairStatus]) -> str:
    """One line per pair, the unhealthy ones marked, then the warnings."""
    lines = []
    for status in statuses:
        verdict = "ok" if status.healthy else "FAILING"
        freshness = "fresh" if status.fresh else "stale"
        missing = ", ".join(status.missing_days) or "none"
        lines.append(
            f"{verdict:7} {status.workspace_id}/{status.channel_id}:"
            f" newest landed day {status.newest_landed_day or 'none'}"
            f" (fetched {status.newest_fetched_at or 'never'}, {freshness});"
            f" missing days: {missing};"
            f" last published {status.last_published_at or 'never'};"
            f" last error: {status.last_error or 'none'}"
        )
        lines += [f"warning {line}" for line in status.warnings]
    return "\n".join(lines)


def as_json(statuses: list[PairStatus], now: dt.datetime) -> str:
    """The machine form (``contract/status.schema.json``)."""
    document = {
        "checkedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "healthy": all(status.healthy for status in statuses),
        "pairs": [{**asdict(status), "healthy": status.healthy} for status in statuses],
    }
    return json.dumps(document, indent=2)


def _listed_pairs(landing_dir: Path) -> list[tuple[str, str]]:
    pairs = []
    for path in sorted((landing_dir / "reference" / "channels").glob("workspace_id=*/*.jsonl")):
        workspace_id = path.parent.name.partition("=")[2]
        for line in path.read_text().splitlines():
            pairs.append((workspace_id, json.loads(line)["id"]))
    return sorted(pairs)


def _fetched_at(
    landing_dir: Path, workspace_id: str, channel_id: str, day: dt.date | None
) -> str | None:
    if day is None:
        return None
    partition = landing.message_partition_path(landing_dir, workspace_id, channel_id, day)
    try:
        return json.loads(partition.with_name(landing.LANDED_FILE).read_text())["fetchedAt"]
    except (OSError, ValueError, KeyError):
        return None


def _instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _published_at(settings: Settings, workspace_id: str, channel_id: str) -> str | None:
    try:
        manifest = json.loads(settings.root.manifest(workspace_id).read_text())
    except (OSError, ValueError, UnsafeIdError):
        return None
    times = [f["publishedAt"] for f in manifest.get("files", []) if f["mediumId"] == channel_id]
    return max(times, default=None)


def _latest_run_records(settings: Settings) -> list[dict[str, Any]]:
    """The records of the newest run that planned (by its plan's start)."""
    planned = runs.plans(settings.root)
    return runs.read_records(settings.root, planned[-1]["run_id"]) if planned else []


def _last_error(records: list[dict[str, Any]], workspace_id: str, channel_id: str) -> str | None:
    """The newest run's error for the pair: its pull's, its workspace's listing's or
    publication's, or the run's own plan or build."""
    for record in records:
        step = record["step"]
        concerns = (
            step in ("plan", "build")
            or (step == "publish" and record.get("workspace_id") == workspace_id)
            or (
                step == "extract"
                and (record.get("workspace_id"), record.get("channel_id"))
                == (workspace_id, channel_id)
            )
        )
        if concerns and record.get("error"):
            return f"{step}: {record['error']}"
        for line in record.get("failed_workspaces") or []:
            if line.startswith(f"{workspace_id}: "):
                return f"plan: {line}"
        if step == "publish" and record.get("workspace_id") == workspace_id:
            mine = [
                line
                for line in record.get("errors") or []
                if line.startswith((f"{workspace_id}/{channel_id}:", f"workspace {workspace_id}:"))
            ]
            if mine:
                return f"publish: {mine[0]}"
    return None
