"""Two runs of overlapping days at once serialize on the warehouse lock; readers see whole data."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import DATA_START, cli, marts_rows, pipeline_env


def run_process(env, first: int, last: int) -> subprocess.Popen:
    days = [str(DATA_START + dt.timedelta(days=first)), str(DATA_START + dt.timedelta(days=last))]
    return subprocess.Popen(
        [sys.executable, "-m", "label_overview.cli", "run", "--from", days[0], "--to", days[1]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_overlapping_runs_serialize_and_end_exact(tmp_path, emulator, dataset):
    together, alone = tmp_path / "together", tmp_path / "alone"
    env = pipeline_env(emulator, dataset, together)
    first, second = run_process(env, 2, 9), run_process(env, 6, 12)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    # The same two runs one after the other.
    for first_day, last_day in ((2, 9), (6, 12)):
        one_run = run_process(pipeline_env(emulator, dataset, alone), first_day, last_day)
        output = one_run.communicate(timeout=300)
        assert one_run.returncode == 0, output
    assert marts_rows(together) == marts_rows(alone)


def test_a_run_that_cannot_get_the_warehouse_says_busy(tmp_path, emulator, dataset):
    from label_overview.layout import DataRoot
    from label_overview.locking import warehouse_lock

    env = {**pipeline_env(emulator, dataset, tmp_path), "LABEL_OVERVIEW_LOCK_TIMEOUT_S": "1"}
    with warehouse_lock(DataRoot(tmp_path), exclusive=True, timeout_s=1):
        blocked = cli(env, "run", "--from", str(DATA_START), "--to", str(DATA_START))
    assert blocked.returncode == 1
    assert (
        blocked.stderr.strip()
        .splitlines()[-1]
        .startswith("label-overview run: error: warehouse busy: another run has held")
    )
    assert cli(env, "run", "--from", str(DATA_START), "--to", str(DATA_START)).returncode == 0


def test_readers_between_runs_get_consistent_data(first_week_home):
    warehouse = str(first_week_home / "warehouse.duckdb")
    readers = [duckdb.connect(warehouse, read_only=True) for _ in range(2)]
    try:
        daily = [
            r.execute("select sum(message_count) from marts.fct_label_counts_daily").fetchone()[0]
            for r in readers
        ]
        from_messages = (
            readers[0].execute("select count(*) from marts.fct_labeled_messages").fetchone()[0]
        )
    finally:
        for reader in readers:
            reader.close()
    assert daily[0] == daily[1] == from_messages


def test_analysts_read_the_published_copy_while_a_run_writes(tmp_path, first_week_home):
    # A copy of the shared clean run: its build wrote the warehouse and the read copy.
    shutil.copytree(first_week_home, tmp_path, dirs_exist_ok=True)
    built = marts_rows(tmp_path)
    holder = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
        " print('ready', flush=True); time.sleep(60)"
    )
    writer = subprocess.Popen(  # another process writing the warehouse, as a run's dbt does
        [sys.executable, "-c", holder, str(tmp_path / "warehouse.duckdb")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "ready"
    try:
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
        copy = marts_rows(tmp_path, "warehouse.read.duckdb")
    finally:
        writer.kill()
        writer.wait()
    assert copy == built
