"""Transform: ``dbt build`` of the warehouse for a window of UTC days, as a subprocess.

dbt runs out of process because its in-process runner keeps DuckDB's write lock after it
returns; ``run_results.json`` is summarized so callers (CLI, Airflow task) can log one line.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from label_overview import parse_cache
from label_overview.layout import DataRoot
from label_overview.locking import warehouse_lock
from label_overview.settings import Settings
from label_overview.warehouse import WarehouseBusyError
from label_overview.windows import Window

log = logging.getLogger(__name__)

# LABEL_OVERVIEW_DBT_PROJECT_DIR names the dbt project (the image sets it); without it, the
# project beside this package in its repository (an editable install, as `make install` does).
DBT_PROJECT_DIR = Path(
    os.environ.get("LABEL_OVERVIEW_DBT_PROJECT_DIR")
    or Path(__file__).resolve().parents[2] / "dbt_project"
)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WINDOW_ENV = ("LABEL_OVERVIEW_FROM_DAY", "LABEL_OVERVIEW_TO_DAY")


class TransformError(RuntimeError):
    """dbt build failed; the message names the failing nodes."""


class FreshnessError(RuntimeError):
    """The landing's newest fetch is older than its error threshold: the pulls have stopped."""


@dataclass(frozen=True)
class BuildSummary:
    """What one dbt build did, from its run_results.json."""

    models: int
    tests_passed: int
    tests_warned: int
    unit_tests: int
    seconds: float
    # The relations its models wrote, "schema.name" (lineage names them).
    relations: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (
            f"{self.models} models built, {self.tests_passed} tests passed"
            f" ({self.tests_warned} warnings, {self.unit_tests} unit tests) in {self.seconds:.1f}s"
        )


def dbt_build(settings: Settings, window: Window | None) -> BuildSummary:
    """Build every model and run every data test for ``window`` (None: every landed day).

    dbt's unit tests are left to ``dbt_test``: their inputs are fixed, so, as dbt
    advises, they prove the SQL once per change (``make test``), not once per nightly run.

    Raises:
        WarehouseBusyError: another writer holds the warehouse.
        TransformError: a model or test failed.
    """
    arguments = ["build", "--exclude-resource-type", "unit_test"]
    with warehouse_lock(settings.root, exclusive=True, timeout_s=settings.lock_timeout_s):
        results = _run_dbt(settings, arguments, window)
    summary = _summarize(results)
    log.info("dbt build: %s", summary)
    return summary


def dbt_test(settings: Settings, selection: str) -> BuildSummary:
    """Run the dbt tests that ``selection`` selects (e.g. ``test_type:unit``, the bucketing
    rules' unit tests) against a built warehouse.

    Raises:
        WarehouseBusyError: another writer holds the warehouse.
        TransformError: a test failed.
    """
    with warehouse_lock(settings.root, exclusive=True, timeout_s=settings.lock_timeout_s):
        return _summarize(_run_dbt(settings, ["test", "--select", selection]))


def _run_dbt(settings: Settings, arguments: list[str], window: Window | None = None) -> dict:
    """Run ``dbt ARGUMENTS`` on the project for ``window`` (None: every landed day); returns
    its run_results. Called under the lock."""
    completed = _dbt_subprocess(settings, arguments, window)
    results = _read_target_json(settings, "run_results.json")
    if completed.returncode != 0:
        output = completed.stdout + completed.stderr
        raise TransformError(f"dbt {arguments[0]} failed: {_failure_line(results, output)}")
    return results


def _dbt_subprocess(
    settings: Settings, arguments: list[str], window: Window | None = None
) -> subprocess.CompletedProcess:
    if not (DBT_PROJECT_DIR / "dbt_project.yml").is_file():
        raise TransformError(
            f"no dbt project at {DBT_PROJECT_DIR}: set LABEL_OVERVIEW_DBT_PROJECT_DIR"
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    parse_cache.seed(settings.root.dbt_target, DBT_PROJECT_DIR)
    completed = subprocess.run(
        [sys.executable, "-m", "label_overview.dbt_process", *arguments, *_dbt_paths(settings)],
        cwd=settings.home,  # dbt finds the warehouse and the landing relative to the data root
        env=dbt_env(settings, window),
        capture_output=True,
        text=True,
        preexec_fn=_die_with_parent,
    )
    parse_cache.keep(settings.root.dbt_target, DBT_PROJECT_DIR)
    if (
        completed.returncode != 0
        and "Could not set lock on file" in completed.stdout + completed.stderr
    ):
        raise WarehouseBusyError(
            f"warehouse busy: another process is writing {settings.root.warehouse}; retry later"
        )
    return completed


# The landing sources whose freshness a mode's runs keep (dbt_project's sources YAML sets the
# thresholds: LABEL_OVERVIEW_FRESHNESS_WARN_HOURS / _ERROR_HOURS, 26 and 50 by default).
_FRESH_SOURCES = {
    "messages": ("vip_message_fetches",),
    "label-overview": ("label_overview_daily",),
    "both": ("vip_message_fetches", "label_overview_daily"),
}


def source_freshness(settings: Settings) -> str:
    """``dbt source freshness`` of the landing sources the mode fills; returns one line per
    source's verdict, and logs the warnings.

    Raises:
        FreshnessError: a source's newest fetch is older than its error threshold, or the
            landing has none.
        WarehouseBusyError: another writer holds the warehouse.
    """
    selection = [f"source:landing.{name}" for name in _FRESH_SOURCES[settings.mode]]
    with warehouse_lock(settings.root, exclusive=True, timeout_s=settings.lock_timeout_s):
        completed = _dbt_subprocess(settings, ["source", "freshness", "--select", *selection])
    verdicts = [
        _freshness_verdict(result)
        for result in _read_target_json(settings, "sources.json").get("results", [])
    ]
    if not verdicts:
        output = completed.stdout + completed.stderr
        raise FreshnessError(f"dbt source freshness failed: {_failure_line({}, output)}")
    for status, line in verdicts:
        if status == "warn":
            log.warning("freshness: %s", line)
    stale = [line for status, line in verdicts if status not in ("pass", "warn")]
    if stale:
        raise FreshnessError("; ".join(stale))
    return "; ".join(line for _, line in verdicts)


def _freshness_verdict(result: dict) -> tuple[str, str]:
    """(status, one line naming the source, its newest fetch and the thresholds)."""
    name = ".".join(result["unique_id"].split(".")[-2:])
    status = result["status"]
    if status == "runtime error":
        reason = (result.get("error") or "unknown error").strip().splitlines()[0]
        return status, f"{name}: its freshness could not be read: {reason}"
    # dbt reads "no fetch time at all" as infinitely long ago.
    if result["max_loaded_at"].startswith("0001-01-01"):
        return status, f"{name} is stale: the landing holds no fetch time"
    word = {"pass": "fresh", "warn": "getting stale", "error": "stale"}[status]
    age_h = result["max_loaded_at_time_ago_in_s"] / 3600
    return status, (
        f"{name} is {word}: newest fetch {result['max_loaded_at']}, {age_h:.1f} h ago"
        f" (warn after {_limit(result, 'warn_after')}, error after {_limit(result, 'error_after')})"
    )


def _die_with_parent() -> None:
    """Runs in the dbt child: if the run that started it is killed, dbt goes too, instead of
    writing on without the lock its parent held."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _dbt_paths(settings: Settings) -> list[str]:
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.root.dbt_target),
        "--log-path",
        str(settings.root.dbt_logs),
    ]


def dbt_env(settings: Settings, window: Window | None = None) -> dict[str, str]:
    """The environment of a dbt process (or MetricFlow's, which runs dbt's adapter) in the data
    root, for ``window`` (None: every landed day): the process's own, without the API's and
    the storage's secrets (dbt reads the data root's local files only), plus the names of the
    data root's files."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DYNAMO_API_", "AIRFLOW_CONN_", "AWS_")) and k not in _WINDOW_ENV
    }
    env.update(DataRoot.dbt_env())
    # The window goes in the environment, not `--vars`: changed vars make dbt re-parse the
    # whole project, every night (macros/run_days.sql).
    if window is not None:
        env.update(zip(_WINDOW_ENV, (str(window.first_day), str(window.last_day)), strict=True))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def _limit(result: dict, name: str) -> str:
    criterion = result.get("criteria", {}).get(name) or {}
    return f"{criterion.get('count')} {criterion.get('period', 'hour')[0]}"  # "26 h"


def _read_target_json(settings: Settings, name: str) -> dict:
    path = settings.root.dbt_target / name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"results": []}


def _summarize(results: dict) -> BuildSummary:
    kinds: Counter[str] = Counter()
    for result in results.get("results", []):
        node = result["unique_id"].split(".")[0]
        kinds[node, result["status"]] += 1
    return BuildSummary(
        models=kinds["model", "success"],
        tests_passed=kinds["test", "pass"] + kinds["unit_test", "pass"],
        tests_warned=kinds["test", "warn"],
        unit_tests=kinds["unit_test", "pass"],
        seconds=results.get("elapsed_time", 0.0),
        relations=tuple(
            ".".join(part.strip('"') for part in result["relation_name"].split(".")[1:])
            for result in results.get("results", [])
            if result["unique_id"].startswith("model.")
            and result["status"] == "success"
            and result.get("relation_name")
        ),
    )


def _failure_line(results: dict, output: str) -> str:
    failed = [
        f"{r['unique_id']} ({r['status']}{_error_reason(r)})"
        for r in results.get("results", [])
        if r["status"] in ("error", "fail")
    ]
    if failed:
        return ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
    errors = [line.strip() for line in output.splitlines() if "Error" in line]
    return errors[0] if errors else "see the dbt log under LABEL_OVERVIEW_HOME/dbt/logs"


def _error_reason(result: dict) -> str:
    # A model's error says what went wrong right after its "... Error in model X" header, e.g.
    # "Constraint Error: NOT NULL constraint failed: fct_user_messages.conversation_id" or
    # "The source and target schemas on this incremental model are out of sync!"; the lines
    # after it are advice, context and the macros it passed through ("> called by ...").
    # A failed test's count says less.
    if result["status"] != "error" or not result.get("message"):
        return ""
    lines = [line.strip() for line in result["message"].splitlines()]
    reasons = [line for line in lines[1:] if line and not line.startswith(">")]
    return ": " + (reasons[0] if reasons else lines[0])
