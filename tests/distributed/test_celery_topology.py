"""The daily DAG on the distributed topology: triggered through the REST API, run by two
Celery workers, and publishing the same snapshots as the embedded default."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import DATA_START, cli, pipeline_env, published_snapshots
from tests.distributed.conftest import connection_json, wait_for

DAG_ID = "label_overview_daily"
CONSUMER = "label_overview_snapshot_consumers"
WORKERS = ("worker-1", "worker-2")


@pytest.mark.long_running
def test_daily_dag_on_celery_postgres_redis(topology, emulator, dataset, tmp_path):
    topology.env["AIRFLOW_CONN_DYNAMO_DEFAULT"] = connection_json(emulator, dataset)
    topology.start("api-server", "api-server", "--port", topology.api_url.rsplit(":", 1)[1])
    topology.start("dag-processor", "dag-processor")
    identity = "tests.distributed.worker_identity.hostname"
    for name in WORKERS:
        topology.start(
            name,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--concurrency",
            "2",
            AIRFLOW__CORE__HOSTNAME_CALLABLE=identity,
            LABEL_OVERVIEW_WORKER_NAME=name,
        )
    day = DATA_START + dt.timedelta(days=8)
    with topology.api() as api:
        wait_for(lambda: api.get("/version").status_code == 200, timeout_s=90, what="api-server")
        wait_for(
            lambda: api.get(f"/dags/{DAG_ID}").status_code == 200,
            timeout_s=120,
            what="the DAG parsed",
        )
        api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        # The DAG is unpaused, so the scheduler also queues the run of the latest interval,
        # and max_active_runs=1 runs one at a time: the test's run, due since its logical
        # date, is queued before the scheduler starts and so starts first (queued runs go by
        # run_after), and the other is never started (paused below) instead of running
        # whole first, which took a third of this test's time.
        logical_date = f"{day + dt.timedelta(days=1)}T02:30:00Z"
        run = api.post(
            f"/dags/{DAG_ID}/dagRuns",
            json={"logical_date": logical_date, "run_after": logical_date},
        )
        run.raise_for_status()
        run_id = run.json()["dag_run_id"]
        topology.start("scheduler", "scheduler")
        state = wait_for(
            lambda: (
                (s := api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"])
                in ("success", "failed")
                and s
            ),
            timeout_s=300,
            what="the DAG run",
            interval_s=2,
        )
        api.patch(f"/dags/{DAG_ID}", json={"is_paused": True}).raise_for_status()
        instances = api.get(
            f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
        ).json()["task_instances"]
        # The scheduler runs the example consumer on the run's snapshot events; its log names
        # each workspace's manifest.
        expected_lines = [
            f"workspace {w} published {2 * len(dataset.channels_of(w))} snapshots of the window"
            f" ending {day}: manifest {tmp_path / 'data' / 'exports' / w / 'manifest.json'}"
            for w in dataset.vip_workspace_ids()
        ]
        wait_for(
            lambda: consumer_logged(api, expected_lines),
            timeout_s=180,
            what="the consumer DAG's runs",
            interval_s=2,
        )
    assert state == "success", [(t["task_id"], t["map_index"], t["state"]) for t in instances]
    pairs = sum(len(dataset.channels_of(w)) for w in dataset.vip_workspace_ids())
    assert sum(1 for t in instances if t["task_id"] == "extract") == pairs
    assert {t["hostname"] for t in instances} == set(WORKERS)

    embedded = tmp_path / "embedded"
    result = cli(
        pipeline_env(emulator, dataset, embedded), "run", "--from", str(day), "--to", str(day)
    )
    assert result.returncode == 0, result.stderr
    published, expected = published_snapshots(tmp_path / "data"), published_snapshots(embedded)
    # The latest interval's run may have landed too: compare the triggered day's.
    assert expected and {path: published.get(path) for path in expected} == expected


def consumer_logged(api, lines: list[str]) -> bool:
    """Whether the finished runs of the snapshot consumer logged every one of ``lines``."""
    runs = api.get(f"/dags/{CONSUMER}/dagRuns", params={"limit": 100}).json()["dag_runs"]
    logs = "\n".join(
        api.get(
            f"/dags/{CONSUMER}/dagRuns/{run['dag_run_id']}/taskInstances"
            "/log_published_snapshots/logs/1",
            params={"full_content": True},
        ).text
        for run in runs
        if run["state"] == "success"
    )
    return all(line in logs for line in lines)
