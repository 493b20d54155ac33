"""The CLI's whole job for a window of UTC days: the steps of ``steps`` in one process.

The Airflow DAGs run the same steps as separate tasks (``orchestration``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from label_overview import steps, storage
from label_overview.concurrency import map_bounded
from label_overview.settings import Settings
from label_overview.transform import BuildSummary
from label_overview.windows import Window, iso_instant

log = logging.getLogger(__name__)


class PipelineError(RuntimeError):
    """Some workspaces or pairs failed; the others were built and published. A rerun repairs it."""


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


def new_run_id() -> str:
    """A CLI run's id, recorded beside every partition it lands (Airflow's runs use theirs)."""
    return f"cli__{iso_instant(int(time.time() * 1000))}"


def run_pipeline(
    settings: Settings,
    window: Window,
    *,
    workspace_ids: Sequence[str] | None = None,
    run_id: str | None = None,
) -> RunSummary:
    """Plan, extract every pair, build the warehouse, publish the snapshots, and record the
    run's end (``steps.finish``), however it ends.

    Raises:
        PipelineError: after building and publishing what it could, when some pairs failed.
    """
    window.check()
    run_id = run_id or new_run_id()
    # With a storage, this host is the run's one writer: its data root mirrors the bucket.
    with storage.synced(settings, storage.cli_run_sync(settings.root)):
        try:
            return _run_steps(settings, window, workspace_ids, run_id)
        finally:
            steps.finish(settings, run_id)


def _run_steps(
    settings: Settings, window: Window, workspace_ids: Sequence[str] | None, run_id: str
) -> RunSummary:
    summary = RunSummary(window)
    started = time.monotonic()
    plan = steps.plan(settings, window, workspace_ids, run_id=run_id)
    stop_at = time.monotonic() + extraction_bound_s(settings, plan)
    outcomes = map_bounded(
        lambda pair_plan: steps.extract(settings, pair_plan, run_id, stop_at=stop_at),
        plan.pairs,
        settings.max_concurrency,
    )
    failed = {(workspace, None): error for workspace, error in plan.failed_workspaces.items()}
    unlanded: dict[tuple[str, str | None], tuple[Window, ...]] = dict.fromkeys(failed, ())
    for pair_plan, outcome in zip(plan.pairs, outcomes, strict=True):
        pair = pair_plan.pair
        if outcome.error is not None:
            failed[pair.workspace_id, pair.channel_id] = outcome.error
            unlanded[pair.workspace_id, pair.channel_id] = pair_plan.windows
            log.error("extract failed for %s: %s", pair, outcome.error)
        else:
            summary.messages_landed += outcome.value.messages
            summary.responses_landed += outcome.value.overview_responses
    summary.pairs = len(plan.pairs)
    summary.seconds["extract"] = time.monotonic() - started

    started = time.monotonic()
    summary.build = steps.build(settings, plan.build_window, run_id)
    summary.seconds["build"] = time.monotonic() - started

    started = time.monotonic()
    publication = steps.publish(
        settings, plan.workspace_ids, plan.publish_day, unlanded, run_id=run_id
    )
    summary.files_published = publication.files
    summary.seconds["publish"] = time.monotonic() - started

    problems = []
    if failed:
        names = sorted(
            steps.describe_failed_pair(pair, unlanded[pair], error)
            for pair, error in failed.items()
        )
        others = "others published" if summary.files_published else "nothing published"
        problems.append(f"{len(failed)} pair(s) failed, {others}: {', '.join(names)}")
    # The workspaces the failed pairs held back are named by those pairs already.
    problems += publication.incomplete_lines()
    if problems:
        raise PipelineError("; ".join(problems))
    return summary


# A CLI run's extraction may take 10 minutes plus 30 s for each pair-day one of its concurrent
# pulls has to land: generous for a healthy API (a pair-day is a page or two and a response),
# and an end for one that stalls.
BOUND_BASE_S, BOUND_PER_PAIR_DAY_S = 600, 30


def extraction_bound_s(settings: Settings, plan: steps.Plan) -> float:
    """Seconds the run's extraction may take: ``LABEL_OVERVIEW_RUN_TIMEOUT_S``, or derived
    from the plan's pair-days shared among the concurrent pulls."""
    if settings.run_timeout_s:
        return settings.run_timeout_s
    pair_days = sum(w.day_count for pair_plan in plan.pairs for w in pair_plan.windows)
    return BOUND_BASE_S + BOUND_PER_PAIR_DAY_S * math.ceil(pair_days / settings.max_concurrency)
