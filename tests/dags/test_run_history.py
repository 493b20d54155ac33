"""The run history: a CLI run, a daily DAG run and a run killed mid-extract each leave one row
in ``marts.fct_pipeline_runs``, with its status, counts and window."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

from label_overview import runs
from label_overview.layout import DataRoot
from label_overview.warehouse import read_only
from tests.conftest import DATA_START, pipeline_env

from .conftest import TWO_DAYS, copy_home, daily_logical_date, point_airflow_at, run_dag


def landed_messages(dataset, first: dt.date, last: dt.date) -> int:
    """The dataset's messages of the VIP workspaces' channels sent on ``first``..``last``."""
    pairs = {(w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)}
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC).timestamp() * 1000
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return sum(
        (m["workspaceId"], m["mediumId"]) in pairs
        and start <= m["timestamp"] < end.timestamp() * 1000
        for m in dataset.messages
    )


def test_three_runs_leave_three_rows(
    dagbag, emulator, dataset, tmp_path, monkeypatch, cli_first_day_home
):
    day, next_day = TWO_DAYS
    pairs = sum(len(dataset.channels_of(w)) for w in dataset.vip_workspace_ids())

    # The first run is the shared CLI run of ``day`` on a fresh data root, copied.
    home = copy_home(cli_first_day_home, tmp_path / "home")
    env = pipeline_env(emulator, dataset, home)
    point_airflow_at(monkeypatch, emulator, dataset, home)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(next_day))
    assert run.state == "success", states

    # A third run, killed while its pulls wait on a slow API: it planned, and no more.
    emulator.control.set_faults(latency_ms=3000)
    killed_day = next_day + dt.timedelta(days=1)
    killed = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "label_overview.cli",
            "run",
            "--from",
            str(killed_day),
            "--to",
            str(killed_day),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        plans = home / "landing" / runs.RUNS_DIR
        while len(list(plans.glob("run=cli__*/plan.json"))) < 2 and time.monotonic() < deadline:
            assert killed.poll() is None
            time.sleep(0.1)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    emulator.control.set_faults(latency_ms=0)

    with read_only(DataRoot(home).warehouse) as connection:
        rows = connection.execute(
            """select triggered_by, status, from_day, to_day, pairs_planned, pairs_landed,
                   pairs_failed, messages_landed, files_published > 0, dbt_models > 0,
                   errors, finished_at is not null
               from marts.fct_pipeline_runs
               order by started_at"""
        ).fetchall()
    first_window = (DATA_START, day)  # a first run lands its whole trailing window
    daily_window = (next_day - dt.timedelta(days=2), next_day)  # the day and its lookback
    assert rows == [
        (
            "cli",
            "succeeded",
            day,
            day,
            pairs,
            pairs,
            0,
            landed_messages(dataset, *first_window),
            True,
            True,
            [],
            True,
        ),
        (
            "manual",
            "succeeded",
            next_day,
            next_day,
            pairs,
            pairs,
            0,
            landed_messages(dataset, *daily_window),
            True,
            True,
            [],
            True,
        ),
        ("cli", "unfinished", killed_day, killed_day, pairs, 0, 0, 0, False, None, [], False),
    ]
