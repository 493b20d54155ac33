"""SIGKILL at random points of a run: a plain rerun always converges to the exact result, and
nothing half-written is ever taken for valid."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import (
    DATA_START,
    cli,
    marts_rows,
    pipeline_env,
    published_snapshots,
)

DAYS = (
    "--from",
    str(DATA_START + dt.timedelta(days=6)),
    "--to",
    str(DATA_START + dt.timedelta(days=12)),
)
TRIALS = 8


@pytest.fixture(scope="module")
def reference(tmp_path_factory, dataset_dir, dataset):
    from dynamo_emulator.server import running_emulator

    home = tmp_path_factory.mktemp("reference")
    started = time.monotonic()
    with running_emulator(dataset_dir) as emulator:
        result = cli(pipeline_env(emulator, dataset, home), "run", *DAYS)
    assert result.returncode == 0, result.stderr
    return marts_rows(home), published_snapshots(home), time.monotonic() - started, home


def assert_manifests_list_only_complete_files(home):
    for manifest_path in (home / "exports").glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        for entry in manifest["files"]:
            body = (manifest_path.parent / entry["path"]).read_bytes()
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
            json.loads(body)


@pytest.mark.long_running
def test_killed_runs_converge_on_rerun(tmp_path, emulator, dataset, reference, record_property):
    marts, files, seconds, complete_home = reference
    rng = random.Random(20261124)
    kills = []
    for trial in range(TRIALS):
        home = tmp_path / f"trial{trial}"
        env = pipeline_env(emulator, dataset, home)
        if trial % 2:
            # Every other trial starts from a complete earlier run, so the kill hits a rerun.
            shutil.copytree(complete_home, home)
        process = subprocess.Popen(
            [sys.executable, "-m", "label_overview.cli", "run", *DAYS],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        delay = rng.uniform(0.3, seconds)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills.append(round(delay, 2))
        if (home / "exports").exists():
            assert_manifests_list_only_complete_files(home)
        rerun = cli(env, "run", *DAYS)
        assert rerun.returncode == 0, f"trial {trial} (killed at {delay:.2f}s): {rerun.stderr}"
        assert marts_rows(home) == marts, f"trial {trial}"
        assert published_snapshots(home) == files, f"trial {trial}"
        assert_manifests_list_only_complete_files(home)
    record_property("sigkill_delays_s", kills)
