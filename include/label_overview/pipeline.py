"""The whole job for a window of UTC days: extract → dbt build → publish snapshots.

The CLI's ``run`` calls ``run_pipeline``; the Airflow DAG calls the same steps as separate
tasks (extract per pair, one build, publish per workspace).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from label_overview import export, extract
from label_overview.dynamo.concurrency import map_bounded
from label_overview.locking import warehouse_lock
from label_overview.report import build_reports, write_reports
from label_overview.settings import Settings
from label_overview.transform import BuildSummary, dbt_build
from label_overview.warehouse import read_only
from label_overview.windows import Window, iso_instant, trailing_window, with_lookback

log = logging.getLogger(__name__)


class PipelineError(RuntimeError):
    """Some workspaces failed; the others were built and published. A rerun repairs it."""


@dataclass
class RunSummary:
    """What a run did, phase by phase."""

    window: Window
    pairs: int = 0
    messages_landed: int = 0
    responses_landed: int = 0
    build: BuildSummary | None = None
    files_published: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        phases = ", ".join(f"{name} {secs:.1f}s" for name, secs in self.seconds.items())
        return (
            f"run {self.window}: {self.pairs} workspace×channel pairs, "
            f"{self.messages_landed} messages and {self.responses_landed} label-overview "
            f"responses landed; {self.build}; {self.files_published} files published ({phases})"
        )


def run_pipeline(
    settings: Settings, window: Window, *, workspace_ids: Sequence[str] | None = None
) -> RunSummary:
    """Extract the window plus the lookback, build the warehouse, publish the snapshots.

    Raises:
        PipelineError: after building and publishing what it could, when some pairs failed.
    """
    summary = RunSummary(window)
    pull_window = with_lookback(window, settings.lookback_days)
    started = time.monotonic()
    with extract.open_client(settings) as client:
        discovery = extract.discover_pairs(client, settings, workspace_ids)
        pairs = discovery.pairs
        log.info("extracting %s for %d pairs", pull_window, len(pairs))
        outcomes = map_bounded(
            lambda pair: extract.extract_pair(client, settings, pair, pull_window),
            pairs,
            settings.max_concurrency,
        )
    failed = {f"{workspace}/*": error for workspace, error in discovery.failed_workspaces.items()}
    for pair, outcome in zip(pairs, outcomes, strict=True):
        if outcome.error is not None:
            failed[str(pair)] = outcome.error
            log.error("extract failed for %s: %s", pair, outcome.error)
        else:
            summary.messages_landed += outcome.value.messages
            summary.responses_landed += outcome.value.overview_responses
    summary.pairs = len(pairs)
    summary.seconds["extract"] = time.monotonic() - started

    started = time.monotonic()
    summary.build = dbt_build(settings, pull_window)
    summary.seconds["build"] = time.monotonic() - started

    started = time.monotonic()
    failed_workspaces = {name.split("/")[0] for name in failed}
    healthy = sorted({pair.workspace_id for pair in pairs} - failed_workspaces)
    summary.files_published = publish(settings, healthy, window.last_day)
    summary.seconds["export"] = time.monotonic() - started

    if failed:
        names = ", ".join(f"{name} ({error})" for name, error in sorted(failed.items()))
        raise PipelineError(f"{len(failed)} pair(s) failed, others published: {names}")
    return summary


def publish(settings: Settings, workspace_ids: Sequence[str], day: dt.date) -> int:
    """Publish each workspace's trailing-window snapshots ending on ``day``, and its label trend
    report beside them; returns the number of snapshots.

    Snapshots need the message grain, so a ``label-overview``-only mode publishes nothing.
    """
    if settings.mode == "label-overview":
        log.info("mode label-overview: snapshots need the message grain, none published")
        return 0
    published_at = iso_instant(int(time.time() * 1000))
    shared = warehouse_lock(settings.home, exclusive=False, timeout_s=settings.lock_timeout_s)
    with shared, read_only(settings.warehouse_path) as connection:
        published = export.publish_workspaces(
            connection, settings.exports_dir, workspace_ids, day, published_at=published_at
        )
        for workspace_id in workspace_ids:
            reports = build_reports(connection, workspace_id, trailing_window(day))
            write_reports(settings.exports_dir, workspace_id, reports)
    return len(published)
