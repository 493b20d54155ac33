"""The run's steps, shared by the CLI and Airflow: plan → extract (one pair) → build → publish.

Each step is a plain function over plain values and decides its policy once. The CLI's ``run``
(``pipeline.run_pipeline``) is a loop over them; each Airflow task calls one
(``orchestration``), so a parameter followed from either passes through the same functions.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

from label_overview import coverage, landing, runs
from label_overview.extract import Pair, PairExtract, discover_pairs, extract_pair, open_client
from label_overview.locking import warehouse_lock
from label_overview.parquet_marts import write_parquet_marts
from label_overview.publishing import Batch, Publication, read_batch, write_workspace
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


def plan(
    settings: Settings,
    request: Window,
    workspace_ids: Sequence[str] | None = None,
    *,
    run_id: str,
) -> Plan:
    """List the VIP workspace × channel pairs, land the listings (``landing.land_reference``)
    and plan each pair's days from the landing's partitions (``planned_days``); logs what and
    why, and records the run's start (``runs``). A landing of an older release is converted
    first (``convert_landing``).

    Raises:
        WindowError: the request is reversed.
        LookupError: a requested workspace is unknown or not VIP.
    """
    request.check()
    fields = {"from_day": str(request.first_day), "to_day": str(request.last_day)}
    with runs.recorded(settings.root, run_id, "plan", **fields) as record:
        if not landing.is_columnar(settings.root.landing):
            convert_landing(settings)
        run_plan = _plan(settings, request, workspace_ids)
        record["pairs_planned"] = len(run_plan.pairs)
        record["failed_workspaces"] = [
            f"{workspace_id}: {error}"
            for workspace_id, error in sorted(run_plan.failed_workspaces.items())
        ]
    return run_plan


def convert_landing(settings: Settings) -> int:
    """Convert the landing's JSONL message partitions (older releases') to Parquet, in place;
    returns how many. The first run's plan does it; ``label-overview convert-landing`` too.

    Raises:
        WarehouseBusyError: a build holds the warehouse (it reads the landing) past the
            settings' lock timeout.
    """
    with warehouse_lock(settings.root, exclusive=True, timeout_s=settings.lock_timeout_s):
        converted = landing.convert_jsonl_partitions(settings.root.landing)
    if converted:
        log.info("converted %d JSONL message partitions to Parquet", converted)
    return converted


def _plan(settings: Settings, request: Window, workspace_ids: Sequence[str] | None) -> Plan:
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
    """Pull and land one pair's planned days, and record what it landed or why it failed; no
    request outlives ``stop_at`` (a ``time.monotonic()`` instant), when given."""
    pair = pair_plan.pair
    with runs.recorded(
        settings.root,
        run_id,
        "extract",
        pair.workspace_id,
        pair.channel_id,
        workspace_id=pair.workspace_id,
        channel_id=pair.channel_id,
        windows=[str(window) for window in pair_plan.windows],
    ) as record:
        with open_client(settings, stop_at=stop_at) as client:
            landed = extract_pair(client, settings, pair, pair_plan.windows, run_id=run_id)
        record.update(messages=landed.messages, responses=landed.overview_responses)
    return landed


def build(settings: Settings, window: Window, run_id: str) -> BuildSummary:
    """One ``dbt build`` of the marts for ``window``, then the analysts' read copy of it;
    records what was built.

    Raises:
        WarehouseBusyError: another writer holds the warehouse.
        TransformError: a model or test failed (the read copy keeps the previous build).
    """
    fields = {"from_day": str(window.first_day), "to_day": str(window.last_day)}
    with runs.recorded(settings.root, run_id, "build", **fields) as record:
        summary = dbt_build(settings, window)
        with warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s):
            write_read_copy(settings.root, settings.read_copy_storage_version)
            with read_only(settings.root.read_copy) as connection:
                write_parquet_marts(connection, settings.root)
                warnings = coverage.quiet_days(connection, window)
        for line in warnings:
            log.warning("quiet channel: %s", line)
        record.update(
            models=summary.models,
            tests_passed=summary.tests_passed,
            tests_warned=summary.tests_warned,
            warnings=warnings,
        )
    return summary


def publish(
    settings: Settings,
    workspace_ids: Sequence[str],
    day: dt.date,
    failed_pairs: Mapping[tuple[str, str | None], Sequence[Window]] | None = None,
    *,
    run_id: str,
) -> Publication:
    """Publish a batch of workspaces' trailing 31-day snapshots ending on ``day`` and their
    label trend reports.

    The warehouse is opened once for the batch, and its pairs, their coverage and their
    documents are read with one query each; then each workspace's snapshots, manifest and
    reports are written, and its outcome recorded on its own (``runs``), as if it had been
    published alone.

    A workspace with a pair whose extract failed this run (``failed_pairs``: the pair, channel
    None for a workspace whose channels could not be listed, and the days it was to land)
    publishes nothing: the warehouse may hold stale days for it. Otherwise a pair is
    published only when every day of the window is landed; otherwise nothing of it is written
    and its previous files stay.
    Snapshots need the message grain, so a ``label-overview``-only mode publishes nothing.

    Returns:
        What the batch published, merged over its workspaces.
    """
    window = trailing_window(day)
    held_back = _held_back(failed_pairs)
    unheld = [workspace_id for workspace_id in workspace_ids if workspace_id not in held_back]
    published_at = iso_instant(int(time.time() * 1000))
    publications = []
    with ExitStack() as shared_lock:
        # Read when the batch's first workspace to publish needs it (its record holds the
        # read's time, or its error), under the shared lock kept until the batch is written.
        batch = functools.cache(lambda: _read_batch(settings, shared_lock, unheld, window))
        for workspace_id in workspace_ids:
            with runs.recorded(
                settings.root, run_id, "publish", workspace_id, workspace_id=workspace_id
            ) as record:
                if workspace_id in held_back:
                    skipped = {workspace_id: held_back[workspace_id]}
                    publication = Publication(skipped=skipped, window=window)
                elif settings.mode == "label-overview":
                    log.info(
                        "mode label-overview: snapshots need the message grain, none published"
                    )
                    publication = Publication(window=window)
                else:
                    publication = write_workspace(
                        settings.root.snapshots, workspace_id, batch(), published_at
                    )
                record.update(files=publication.files, errors=publication.errors())
            publications.append(publication)
    return Publication.merged(publications, window)


def _held_back(
    failed_pairs: Mapping[tuple[str, str | None], Sequence[Window]] | None,
) -> dict[str, list[str]]:
    """The workspaces with a failed pair, each with its failed pairs described."""
    held_back: dict[str, list[str]] = defaultdict(list)
    for pair, windows in (failed_pairs or {}).items():
        held_back[pair[0]].append(describe_failed_pair(pair, windows))
    return held_back


def _read_batch(
    settings: Settings, shared_lock: ExitStack, workspace_ids: list[str], window: Window
) -> Batch:
    """The batch's read, under the warehouse's shared lock, taken on ``shared_lock`` with the
    connection and the thread that reads the documents (``publishing.read_batch``), so that
    they last as long as the stack: on leaving it, the queries not started are cancelled and
    the one running is waited for, before the connection closes."""
    shared_lock.enter_context(
        warehouse_lock(settings.root, exclusive=False, timeout_s=settings.lock_timeout_s)
    )
    connection = shared_lock.enter_context(read_only(settings.root.warehouse))
    # One DuckDB thread: a second gained nothing even for a batch of 250 workspaces (500
    # pairs) on 2 busy cores, 1.76 s at best and 1.92 s typical on one against 1.91 and
    # 2.18 s on two, and lost for one workspace (0.22 against 0.29 s), as Airflow's tasks
    # publish side by side; the other core writes the files meanwhile.
    connection.execute("set threads = 1")
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish-read")
    shared_lock.callback(reader.shutdown, cancel_futures=True)
    return read_batch(connection, workspace_ids, window, reader)


def finish(settings: Settings, run_id: str) -> list[str]:
    """Record the run's end: succeeded, or failed with every problem its steps recorded
    (``runs.problems``); returns those problems. A run that never planned (bad input) leaves
    no record at all."""
    records = runs.read_records(settings.root, run_id)
    problems = runs.problems(records)
    if not records:
        return problems
    runs.write_record(
        runs.step_path(settings.root, run_id, "finish"),
        {
            "run_id": run_id,
            "step": "finish",
            "status": "failed" if problems else "succeeded",
            "errors": problems,
            "finished_at": runs.now(),
        },
    )
    return problems
