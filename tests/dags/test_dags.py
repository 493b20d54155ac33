"""The DAGs in real Airflow (SQLite metadata, dag.test) against the emulator."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from tests.conftest import (
    DATA_START,
    cli,
    marts_rows,
    pipeline_env,
    published_snapshots,
)

from .conftest import (
    CLEAN_DAY,
    REPO,
    TWO_DAYS,
    copy_home,
    daily_logical_date,
    point_airflow_at,
    run_dag,
)

DAG_IDS = {"label_overview_daily", "label_overview_backfill"}
CONSUMER = "label_overview_snapshot_consumers"
LATENESS = "label_overview_lateness"


def test_dags_load_without_errors(airflow_db, record_property):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    record_property("dagbag_parse_seconds", round(time.perf_counter() - started, 3))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == DAG_IDS | {CONSUMER, LATENESS}
    consumer = bag.get_dag(CONSUMER)
    assert [t.task_id for t in consumer.tasks] == ["log_published_snapshots"]
    assert [asset.name for asset in consumer.timetable.asset_condition.objects] == [
        "label_overview_snapshots"
    ]
    for dag_id in DAG_IDS:
        dag = bag.get_dag(dag_id)
        assert dag.catchup is False
        assert dag.default_args["retries"] == 2
        assert {t.task_id for t in dag.tasks} == {
            "plan",
            "list_pairs",
            "extract",
            "build",
            "list_workspaces",
            "publish",
            "finish",
        } | ({"freshness"} if dag_id == "label_overview_daily" else set())
        assert dag.get_task("finish").is_teardown
        assert dag.get_task("build").pool == "duckdb_writer"
        assert dag.get_task("extract").pool == "dynamo_api"
        assert dag.get_task("extract").execution_timeout == dt.timedelta(hours=2)


def test_daily_dag_two_days_equals_the_cli(
    dagbag, emulator, dataset, tmp_path, monkeypatch, cli_first_day_home
):
    by_airflow = tmp_path / "airflow"
    point_airflow_at(monkeypatch, emulator, dataset, by_airflow)
    days = TWO_DAYS
    for day in days:
        run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(day))
        assert run.state == "success", states
        # One event per published workspace, saying what was published.
        assert snapshot_events(run.run_id) == [
            {
                "workspace_id": workspace_id,
                "day": str(day),
                "manifest": str(by_airflow / "exports" / workspace_id / "manifest.json"),
                "files": 2 * len(dataset.channels_of(workspace_id)),
            }
            for workspace_id in sorted(dataset.vip_workspace_ids())
        ]
    # The same two days as two CLI runs: the first lands its whole trailing window (the
    # shared first run's data root, copied), then the next day's.
    by_cli = copy_home(cli_first_day_home, tmp_path / "cli")
    next_day = str(days[1])
    result = cli(
        pipeline_env(emulator, dataset, by_cli), "run", "--from", next_day, "--to", next_day
    )
    assert result.returncode == 0, result.stderr
    assert marts_rows(by_airflow) == marts_rows(by_cli)
    airflow_files = published_snapshots(by_airflow)
    assert airflow_files == published_snapshots(by_cli)
    first_window = f"{days[0] - dt.timedelta(days=30)}_{days[0]}.json"
    assert any(p.endswith(first_window) for p in airflow_files)
    assert_secret_not_in_airflow_metadata(dataset.api_keys[0]["secret"])


def snapshot_events(run_id: str) -> list[dict]:
    """The extras of the events a run emitted on the snapshots asset, read back from the
    metadata database, by workspace."""
    import os
    import sqlite3
    from pathlib import Path

    connection = sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
    try:
        rows = connection.execute(
            """select event.extra from asset_event as event
               join asset on asset.id = event.asset_id
               where asset.name = 'label_overview_snapshots' and event.source_run_id = ?""",
            [run_id],
        ).fetchall()
    finally:
        connection.close()
    return sorted((json.loads(extra) for (extra,) in rows), key=lambda e: e["workspace_id"])


def assert_secret_not_in_airflow_metadata(secret: str) -> None:
    """XComs, task logs and the metadata database hold ids and counts, never the secret."""
    import os
    import sqlite3
    from pathlib import Path

    home = Path(os.environ["AIRFLOW_HOME"])
    connection = sqlite3.connect(home / "airflow.db")
    try:
        xcoms = connection.execute("select value from xcom").fetchall()
    finally:
        connection.close()
    assert len(xcoms) > 10
    assert not [v for (v,) in xcoms if secret in str(v)]
    assert secret.encode() not in (home / "airflow.db").read_bytes()
    for log in home.rglob("*.log"):
        assert secret.encode() not in log.read_bytes(), log


def test_one_failing_workspace_does_not_stop_the_others(
    dagbag, emulator, dataset, tmp_path, monkeypatch
):
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    failing, healthy = dataset.vip_workspace_ids()[:2]
    emulator.control.set_faults(failing_workspaces=[failing])
    day = DATA_START + dt.timedelta(days=5)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(day))
    assert run.state == "failed"
    failed = sorted(key for key, state in states.items() if state == "failed")
    failing_pairs = len(dataset.channels_of(failing))
    assert [key[0] for key in failed] == ["extract"] * failing_pairs + ["publish"]
    assert states["build", -1] == "success"
    assert (tmp_path / "exports" / healthy / "manifest.json").exists()
    assert not (tmp_path / "exports" / failing).exists()


def test_transient_503s_are_absorbed(
    dagbag, emulator, dataset, tmp_path, monkeypatch, clean_daily_run
):
    # The clean run of the same day is the shared one; only the faulty run is this test's.
    faulty, clean = tmp_path / "faulty", clean_daily_run.home
    assert clean_daily_run.state == "success", clean_daily_run.states
    point_airflow_at(monkeypatch, emulator, dataset, faulty)
    emulator.control.set_faults(fail_rate=0.3, retry_after_s=0)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(CLEAN_DAY))
    assert run.state == "success", states
    assert marts_rows(faulty) == marts_rows(clean)
    assert published_snapshots(faulty) == published_snapshots(clean)


def test_backfill_of_40_days_equals_one_cli_run(dagbag, emulator, dataset, tmp_path, monkeypatch):
    by_airflow, by_cli = tmp_path / "airflow", tmp_path / "cli"
    point_airflow_at(monkeypatch, emulator, dataset, by_airflow)
    first, last = DATA_START - dt.timedelta(days=15), DATA_START + dt.timedelta(days=24)
    assert (last - first).days + 1 == 40
    emulator.control.clear_requests()
    run, states = run_dag(
        dagbag, "label_overview_backfill", conf={"from": str(first), "to": str(last)}
    )
    assert run.state == "success", states
    by_airflow_requests = requested(emulator)
    result = cli(
        pipeline_env(emulator, dataset, by_cli), "run", "--from", str(first), "--to", str(last)
    )
    assert result.returncode == 0, result.stderr
    # One planning rule: the same days pulled with the same requests, the lookback included.
    assert requested(emulator) == by_airflow_requests
    assert (
        "/v1/vip-messages",
        (
            ("from", str(first - dt.timedelta(days=2))),
            ("limit", "500"),
            ("mediumId", dataset.channels_of(dataset.vip_workspace_ids()[0])[0]["id"]),
            ("to", str(first + dt.timedelta(days=28))),
            ("workspaceId", dataset.vip_workspace_ids()[0]),
        ),
    ) in by_airflow_requests
    assert marts_rows(by_airflow) == marts_rows(by_cli)
    assert published_snapshots(by_airflow) == published_snapshots(by_cli)


def requested(emulator) -> set[tuple[str, tuple]]:
    """The (path, query) of every request since the last call, then clears the log."""
    requests = {(r["path"], tuple(sorted(r["query"].items()))) for r in emulator.control.requests()}
    emulator.control.clear_requests()
    return requests


@pytest.mark.parametrize("conf", [{"from": "2026-06-05", "to": "2026-06-01"}])
def test_backfill_rejects_a_reversed_window(dagbag, emulator, dataset, tmp_path, monkeypatch, conf):
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    run, states = run_dag(dagbag, "label_overview_backfill", conf=conf)
    assert run.state == "failed"
    assert states["plan", -1] == "failed"
    assert not tmp_path.joinpath("landing").exists()
