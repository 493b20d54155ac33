"""SIGKILL at chosen points of every phase of a run: a plain rerun always converges to the exact
result, and nothing half-written is ever taken for valid."""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from label_overview.runs import RUNS_DIR
from tests.conftest import FIRST_WEEK, cli, marts_rows, pipeline_env, published_snapshots

# The days of the shared clean run (conftest's ``first_week_home``), the trials' reference.
DAYS = FIRST_WEEK
# dbt's line for each node it has finished: "12 of 51 OK created ...", "50 of 51 PASS ...",
# "37 of 51 NO-OP exposure ..." (an exposure has nothing to build).
DBT_NODE_DONE = re.compile(rb": (\d+) of (\d+) (?:OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)")
# Each trial: the phase the kill lands in, and whether the run starts from a complete earlier
# run (the kill then hits a rerun, replacing what was whole) or from an empty data root.
#
# Kills used to fall at random instants of a run; a run spends ~80 % of its time in dbt, so
# eight of them seldom hit the plan or the publish. Each kill now waits for an event inside its
# phase (the emulator's request log, the run's step records, dbt's log) and the trial checks
# from the records that it landed there, so every run of the suite kills in every phase: the
# plan (discovery under way; nothing is written yet, so one start is enough), the extract
# (pulls and landings under way, from both starts), the build (dbt part way, from both starts;
# and after dbt's last node, while the read copy and the Parquet marts are replaced) and the
# publish (from both starts). The seeded draws choose how far into the extract and the build.
TRIALS = [
    ("plan", False),
    ("extract", True),
    ("extract", False),
    ("build", True),
    ("build", False),
    ("build end", True),
    ("publish", False),
    ("publish", True),
]


def assert_manifests_list_only_complete_files(home):
    for manifest_path in (home / "exports").glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        for entry in manifest["files"]:
            body = (manifest_path.parent / entry["path"]).read_bytes()
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
            json.loads(body)


def new_run(home: Path, earlier: set[Path]) -> Path | None:
    """The records folder of the run started after ``earlier`` were listed, once it has one."""
    found = set((home / "landing" / RUNS_DIR).glob("run=*")) - earlier
    return found.pop() if found else None


def phase_reached(home: Path, earlier: set[Path]) -> str:
    """The phase a run was in, from the step records it left (each is written as its step
    ends): ``finished`` when it had ended."""
    run = new_run(home, earlier)
    if run is None or not (run / "plan.json").exists():
        return "plan"
    planned = json.loads((run / "plan.json").read_text())["pairs_planned"]
    if len(list((run / "extract").rglob("*.json"))) < planned:
        return "extract"
    if not (run / "build.json").exists():
        return "build"
    return "publish" if not (run / "finish.json").exists() else "finished"


class DbtProgress:
    """dbt's finished nodes (index, of how many), read as its log grows from where the log
    ended when made (a rerun's log holds the earlier runs' lines first)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = log.stat().st_size if log.exists() else 0
        self.done: list[tuple[int, int]] = []

    def nodes(self) -> list[tuple[int, int]]:
        try:
            with self.log.open("rb") as file:
                file.seek(self.offset)
                lines = file.read().rpartition(b"\n")[0]  # whole lines only
        except FileNotFoundError:
            return self.done
        if lines:
            self.offset += len(lines) + 1
            self.done += [(int(a), int(b)) for a, b in DBT_NODE_DONE.findall(lines)]
        return self.done


def kill_event(
    phase: str, rng: random.Random, home: Path, emulator, earlier: set[Path]
) -> Callable[[], bool]:
    """A check that becomes true at the trial's kill point, inside ``phase``."""
    dbt = DbtProgress(home / "dbt" / "logs" / "dbt.log")
    if phase == "plan":
        # Discovery's first request is in: the listings are being read, nothing is planned.
        # The plan takes ~0.1 s, less than a poll can be relied on to catch: for this trial
        # every answer takes 0.3 s, so the kill falls while discovery waits.
        emulator.control.set_faults(latency_ms=300)
        return lambda: bool(emulator.control.requests())
    if phase == "extract":
        # Some pairs' messages have landed and their label-overview pulls are under way;
        # others are still paging (every pair has ~9 label-overview requests or more to make).
        pulls = rng.randint(1, 9)
        return lambda: (
            pulls <= sum("label-overview" in r["path"] for r in emulator.control.requests())
        )
    if phase == "build":
        # dbt has finished some of its nodes (none: it is starting) and not all.
        nodes = rng.randint(0, 40)
        return lambda: phase_reached(home, earlier) == "build" and len(dbt.nodes()) >= nodes
    if phase == "build end":
        # dbt has reported its last node ("51 of 51"; with its two threads, one other may be
        # finishing): what follows is the read copy and the Parquet marts being written.
        return lambda: any(index == total for index, total in dbt.nodes())
    # The build's record is written as it ends: the publish has started.
    return lambda: phase_reached(home, earlier) == "publish"


@pytest.mark.long_running
def test_killed_runs_converge_on_rerun(
    tmp_path, emulator, dataset, first_week_home, record_property
):
    marts, files = marts_rows(first_week_home), published_snapshots(first_week_home)
    rng = random.Random(20261124)
    kills = []
    for trial, (phase, over_complete) in enumerate(TRIALS):
        home = tmp_path / f"trial{trial}"
        env = pipeline_env(emulator, dataset, home)
        if over_complete:
            shutil.copytree(first_week_home, home)
        earlier = set((home / "landing" / RUNS_DIR).glob("run=*"))
        emulator.control.clear_requests()
        reached = kill_event(phase, rng, home, emulator, earlier)
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "label_overview.cli", "run", *DAYS],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not reached() and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills.append(f"{phase} at {time.monotonic() - started:.2f}s")
        hit = phase_reached(home, earlier)
        assert hit == phase.split()[0], f"trial {trial}: meant to kill in {phase}, hit {hit}"
        emulator.control.set_faults(latency_ms=0)
        if (home / "exports").exists():
            assert_manifests_list_only_complete_files(home)
        rerun = cli(env, "run", *DAYS)
        assert rerun.returncode == 0, f"trial {trial} (killed in {phase}): {rerun.stderr}"
        assert marts_rows(home) == marts, f"trial {trial}"
        assert published_snapshots(home) == files, f"trial {trial}"
        assert_manifests_list_only_complete_files(home)
    record_property("sigkill_points", kills)
