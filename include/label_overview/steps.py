"""The run's steps, shared by the CLI and Airflow: plan → extract (one pair) → build → publish.

Each step is a plain function over plain values and decides its policy once. The CLI's ``run``
(``pipeline.run_pipeline``) is a loop over them; each Airflow task calls one
(``orchestration``), so a parameter followed from either passes through the same functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from label_overview import coverage, landing, snapshots
from label_overview.documents import warehouse_pairs
from label_overview.extract import Pair, PairExtract, discover_pairs, extract_pair, open_client
from label_overview.locking import warehouse_lock
from label_overview.report import build_reports, write_reports
from label_overview.settings import Settings
from label_overview.transform import BuildSummary, dbt_build
from label_overview.warehouse import read_only, write_read_copy
from label_overview.windows import Window, iso_instant, trailing_window, with_lookback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairPlan:
    """The days one pair pulls this run, as runs of consecutive days."""

    pair: Pair
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class Plan:
    """What a run does: the days it was asked for, each pair's days to pull, and the
    workspaces whose channels could not be listed (they fail; the others go on)."""

    request: Window
    lookback_days: int
    pairs: tuple[PairPlan, ...]
    failed_workspaces: Mapping[str, str] = field(default_factory=dict)

    @property
    def publish_day(self) -> dt.date:
        """The last day of the trailing 31-day window the run publishes."""
        return self.request.last_day

    @property
    def build_window(self) -> Window:
        """The days dbt rebuilds: every day any pair pulls, and the request with its lookback."""
        windows = [with_lookback(self.request, self.lookback_days)]
        windows += [window for pair in self.pairs for window in pair.windows]
        return Window(min(w.first_day for w in windows), max(w.last_day for w in windows))

    @property
    def workspace_ids(self) -> list[str]:
        return sorted({p.pair.workspace_id for p in self.pairs} | set(self.failed_workspaces))


def planned_days(request: Window, lookback_days: int, landed: set[dt.date]) -> dict[dt.date, str]:
    """The planning rule: the days a pair pulls for a run, each with its reason.

    For a run whose last day is D: the requested days, the lookback before them (late labels
    are re-pulled), and every day of the trailing publish window [D−30, D] never landed for
    the pair, so a first run lands the whole window and a hole left by a failed day is filled
    by the next run.
    """
    reasons = {
        day: "never landed" for day in trailing_window(request.last_day).days() if day not in landed
    }
    reasons.update(_requested_days(request, lookback_days))
    return dict(sorted(reasons.items()))


def _requested_days(request: Window, lookback_days: int) -> dict[dt.date, str]:
    """Every pair's days: the request and its lookback."""
    return {
        day: "requested" if day >= request.first_day else "lookback"
        for day in with_lookback(request, lookback_days).days()
    }


def plan(settings: Settings, request: Window, workspace_ids: Sequence[str] | None = None) -> Plan:
    """List the VIP workspace × channel pairs, land the listings (``landing.land_reference``)
    and plan each pair's days from the landing's partitions (``planned_days``); logs what and why.

    Raises:
        WindowError: the request is reversed.
        LookupError: a requested workspace is unknown or not VIP.
    """
    request.check()
    with open_client(settings) as client:
        discovery = discover_pairs(client, workspace_ids)
    landing.land_reference(settings.root.landing, discovery.workspaces, discovery.channels)
    pairs, gaps = [], {}
    for pair in discovery.pairs:
        landed = coverage.landed_days(
            settings.root.landing, pair.workspace_id, pair.channel_id, settings.mode
        )
        days = planned_days(request, settings.lookback_days, landed)
        pairs.append(PairPlan(pair, tuple(coverage.day_runs(days))))
        never = [day for day, reason in days.items() if reason == "never landed"]
        if never:
            gaps[pair] = never
    run_plan = Plan(request, settings.lookback_days, tuple(pairs), discovery.failed_workspaces)
    common = _requested_days(request, settings.lookback_days)
    log.info("plan for %d pairs: %s", len(pairs), _reasons_line(common))
    for pair, never in sorted(gaps.items()):
        log.info("plan %s: %s: never landed", pair, coverage.describe_days(never))
    return run_plan


def _reasons_line(days: Mapping[dt.date, str]) -> str:
    by_reason: dict[str, list[dt.date]] = defaultdict(list)
    for day, reason in days.items():
        by_reason[reason].append(day)
    return "; ".join(
        f"{coverage.describe_days(found)}: {reason}" for reason, found in by_reason.items()
    )


def describe_failed_pair(
    pair: tuple[str, str | None], windows: Sequence[Window], error: object = None
) -> str:
    """``W/M (2026-01-11..2026-01-13: the error)``: a pair (``W/*`` for a workspace whose
    channels could not be listed), the days it did not land, and why, where known."""
    workspace_id, channel_id = pair
    detail = ": ".join(
        part for part in (", ".join(map(str, windows)), "" if error is None else str(error)) if part
    )
    return f"{workspace_id}/{channel_id or '*'}" + (f" ({detail})" if detail else "")


def extract(
    settings: Settings, pair_plan: PairPlan, run_id: str, *, stop_at: float | None = None
) -> PairExtract:
    """Pull and land one pair's planned days; no request outlives ``stop_at`` (a
    ``time.monotonic()`` instant), when given."""
    with open_client(settings, stop_at=stop_at) as client:
        return extract_pair(client, settings, pair_plan.pair, pair_plan.windows, run_id=run_id)


def build(settings: Settings, window: Window) -> BuildSummary:
    """One ``dbt build`` of the marts for ``window``, then the analysts' read copy of it.

    Raises:
        WarehouseBusyError: another writer holds the warehouse.
        TransformError: a model or test failed (the read copy keeps the previous build).
    """
    summary = dbt_build(settings, window)
    with warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s):
        write_read_copy(settings.root)
    return summary


@dataclass(frozen=True)
class Publication:
    """What publishing did: files written, workspaces held back by a failed extract, and pairs
    held back because their window has days never landed."""

    files: int = 0
    skipped: Mapping[str, list[str]] = field(default_factory=dict)
    incomplete: Mapping[tuple[str, str], list[dt.date]] = field(default_factory=dict)
    window: Window | None = None

    def errors(self) -> list[str]:
        """One line per workspace or pair not published."""
        return self.skipped_lines() + self.incomplete_lines()

    def skipped_lines(self) -> list[str]:
        return [
            f"workspace {workspace_id}: extract failed for {', '.join(sorted(pairs))};"
            " not publishing"
            for workspace_id, pairs in sorted(self.skipped.items())
        ]

    def incomplete_lines(self) -> list[str]:
        return [
            f"{workspace_id}/{channel_id}: {coverage.describe_days(days)} never landed;"
            f" not publishing its {self.window} snapshots"
            for (workspace_id, channel_id), days in sorted(self.incomplete.items())
        ]


def publish(
    settings: Settings,
    workspace_id: str,
    day: dt.date,
    failed_pairs: Mapping[tuple[str, str | None], Sequence[Window]] | None = None,
) -> Publication:
    """Publish one workspace's trailing 31-day snapshots ending on ``day`` and its label trend
    reports.

    A workspace with a pair whose extract failed this run (``failed_pairs``: the pair, channel
    None for a workspace whose channels could not be listed, and the days it was to land)
    publishes nothing: the warehouse may hold stale days for it. Otherwise a pair is
    published only when every day of the window is landed; otherwise nothing of it is written
    and its previous files stay.
    Snapshots need the message grain, so a ``label-overview``-only mode publishes nothing.
    """
    window = trailing_window(day)
    failed = [
        describe_failed_pair(pair, windows)
        for pair, windows in (failed_pairs or {}).items()
        if pair[0] == workspace_id
    ]
    if failed:
        return Publication(skipped={workspace_id: failed}, window=window)
    if settings.mode == "label-overview":
        log.info("mode label-overview: snapshots need the message grain, none published")
        return Publication(window=window)
    published_at = iso_instant(int(time.time() * 1000))
    shared = warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s)
    with shared, read_only(settings.root.warehouse) as connection:
        pairs = warehouse_pairs(connection, [workspace_id])
        covered = coverage.window_coverage(connection, pairs, window)
        complete = [pair for pair in pairs if not covered[pair].missing]
        written = snapshots.write_snapshots(
            connection,
            settings.root.snapshots,
            complete,
            window,
            {pair: (covered[pair].fetched_from, covered[pair].fetched_to) for pair in complete},
        )
        snapshots.write_manifest(
            settings.root.snapshots / workspace_id,
            workspace_id,
            published_at=published_at,
            written=written,
        )
        reports = build_reports(connection, workspace_id, window, [m for _, m in complete])
        write_reports(settings.root.snapshots, workspace_id, reports)
    incomplete = {pair: covered[pair].missing for pair in pairs if covered[pair].missing}
    return Publication(len(written), {}, incomplete, window)
