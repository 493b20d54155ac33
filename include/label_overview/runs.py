"""The run history: every run, from the CLI or Airflow, leaves a record of each of its steps.

A run's records live in the landing, ``landing/pipeline_runs/<run>/``, one JSON file per step
(the plan, each extracted pair, the build, each published workspace, the finish), each written
atomically by the step itself when it ends, failed or not. One file per step because a DAG
run's steps run in parallel on different workers: none rewrites another's file. A run killed
mid-way keeps the records of the steps it finished and has no ``finish.json``: it shows as
unfinished. ``marts.fct_pipeline_runs`` is a view over these files, one row per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from label_overview.files import write_atomic
from label_overview.layout import DataRoot
from label_overview.windows import iso_instant

RUNS_DIR = "pipeline_runs"


def run_dir(root: DataRoot, run_id: str) -> Path:
    """The folder of one run's records (``run=<run id>``, ``_folder_name``)."""
    return root.landing / RUNS_DIR / f"run={_folder_name(run_id)}"


def step_path(root: DataRoot, run_id: str, step: str, *keys: str) -> Path:
    """``plan.json``, ``build.json``, ``finish.json``; ``extract/W/M.json``; ``publish/W.json``."""
    if not keys:
        return run_dir(root, run_id) / f"{step}.json"
    parts = [_folder_name(key) for key in keys]
    return run_dir(root, run_id).joinpath(step, *parts[:-1], f"{parts[-1]}.json")


def _folder_name(key: str) -> str:
    """A key as a file name: its safe characters (Airflow's run ids hold ``+``, and a
    workspace that fails for its unsafe id still gets its record), then a digest of the
    whole key so two keys never share a name."""
    readable = re.sub(r"[^A-Za-z0-9_.:-]", "_", key)[:80].lstrip(".")
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def now() -> str:
    return iso_instant(int(time.time() * 1000))


@contextmanager
def recorded(root: DataRoot, run_id: str, step: str, *keys: str, **fields: Any) -> Iterator[dict]:
    """Record one step of a run: yields the record for the step to fill, and writes it when
    the step ends, with its seconds and, when it raised, the error's one line (re-raised)."""
    record: dict[str, Any] = {"run_id": run_id, "step": step, **fields, "started_at": now()}
    started = time.monotonic()
    try:
        yield record
    except BaseException as error:
        record["error"] = error_line(error)
        raise
    finally:
        record["finished_at"] = now()
        record["seconds"] = round(time.monotonic() - started, 3)
        write_record(step_path(root, run_id, step, *keys), record)


def write_record(path: Path, record: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(record, sort_keys=True) + "\n").encode())


def read_records(root: DataRoot, run_id: str) -> list[dict[str, Any]]:
    """Every record one run has left so far."""
    return [json.loads(path.read_text()) for path in sorted(run_dir(root, run_id).rglob("*.json"))]


def warnings(records: list[dict[str, Any]]) -> list[str]:
    """The warnings a run's build recorded (quiet channels)."""
    return [line for record in records for line in record.get("warnings") or []]


def plans(root: DataRoot) -> list[dict[str, Any]]:
    """Every run's plan record, oldest start first."""
    found = [json.loads(path.read_text()) for path in (root.landing / RUNS_DIR).glob("*/plan.json")]
    return sorted(found, key=lambda plan: (plan["started_at"], plan["run_id"]))


def started_runs(root: DataRoot, day: dt.date) -> list[str]:
    """The runs whose plan asked for a window ending on ``day``."""
    return [plan["run_id"] for plan in plans(root) if plan.get("to_day") == str(day)]


def finished_runs(root: DataRoot, day: dt.date) -> list[str]:
    """Those of ``started_runs`` that recorded their finish."""
    return [
        run_id for run_id in started_runs(root, day) if step_path(root, run_id, "finish").exists()
    ]


def error_line(error: BaseException) -> str:
    """An error as one line: its last line, or its type when it has no message."""
    lines = str(error).strip().splitlines()
    return lines[-1] if lines else type(error).__name__


def problems(records: list[dict[str, Any]]) -> list[str]:
    """What went wrong in a run, one line each, from the records its steps left; empty when
    it planned, landed every pair, built and published every workspace."""
    found: list[str] = []
    steps = {record["step"] for record in records}
    for step in ("plan", "build"):
        if step not in steps:
            found.append(f"{step}: did not finish")
    for record in records:
        where = "/".join(record[k] for k in ("workspace_id", "channel_id") if record.get(k))
        name = f"{record['step']} {where}" if where else record["step"]
        if record.get("error"):
            found.append(f"{name}: {record['error']}")
        found += [f"plan: workspace {line}" for line in record.get("failed_workspaces") or []]
        found += [
            f"{name}: {line}" for line in record.get("errors") or [] if record["step"] != "finish"
        ]
    return found
