"""The daily DAG on the distributed topology across hosts: triggered through the REST API and
run by two Celery workers that share no disk, only a real S3 server (SeaweedFS on loopback).
Worker A serves the default queue with an empty home of its own; worker B serves the writer
queue too, owns the warehouse and mirrors the bucket. The bucket ends up holding the same
snapshots as the embedded default publishes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import DATA_START, cli, pipeline_env, published_snapshots
from tests.distributed.conftest import connection_json, wait_for
from tests.object_storage import BUCKET, running_s3

DAG_ID = "label_overview_daily"
CONSUMER = "label_overview_snapshot_consumers"
# Each worker's queues: A pulls from the API only; B also owns the warehouse.
WORKERS = {"worker-a": "default", "worker-b": "default,duckdb"}
WRITER_TASKS = {"plan", "build", "freshness", "publish", "finish"}


@pytest.mark.long_running
def test_daily_dag_on_two_hosts_sharing_only_a_bucket(topology, emulator, dataset, tmp_path):
    s3 = topology.stack.enter_context(running_s3(tmp_path / "s3"))
    topology.env["AIRFLOW_CONN_DYNAMO_DEFAULT"] = connection_json(emulator, dataset)
    topology.env["AIRFLOW_VAR_LABEL_OVERVIEW_STORAGE_URL"] = f"s3://{BUCKET}/data"
    topology.env["AIRFLOW_CONN_LABEL_OVERVIEW_STORAGE"] = json.dumps(
        {
            "conn_type": "aws",
            "login": s3.key,
            "password": s3.secret,
            "extra": {"endpoint_url": s3.endpoint_url},
        }
    )
    topology.start("api-server", "api-server", "--port", topology.api_url.rsplit(":", 1)[1])
    topology.start("dag-processor", "dag-processor")
    identity = "tests.distributed.worker_identity.hostname"
    homes = {name: tmp_path / name for name in WORKERS}
    for name, queues in WORKERS.items():
        homes[name].mkdir()
        topology.start(
            name,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--concurrency",
            "2",
            "--queues",
            queues,
            AIRFLOW__CORE__HOSTNAME_CALLABLE=identity,
            LABEL_OVERVIEW_WORKER_NAME=name,
            AIRFLOW_VAR_LABEL_OVERVIEW_HOME=str(homes[name]),
            LABEL_OVERVIEW_HOME=str(homes[name]),
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
            f" ending {day}: manifest s3://{BUCKET}/data/exports/{w}/manifest.json"
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
    extracts = [t for t in instances if t["task_id"] == "extract"]
    assert len(extracts) == pairs
    assert {t["hostname"] for t in extracts} == set(WORKERS)
    writers = {t["hostname"] for t in instances if t["task_id"] in WRITER_TASKS}
    assert writers == {"worker-b"}
    # Worker A landed its pairs in scratch folders it pushed and removed: its home is empty.
    assert list(homes["worker-a"].iterdir()) == []
    assert (homes["worker-b"] / "warehouse.duckdb").is_file()

    embedded = tmp_path / "embedded"
    result = cli(
        pipeline_env(emulator, dataset, embedded), "run", "--from", str(day), "--to", str(day)
    )
    assert result.returncode == 0, result.stderr
    expected = published_snapshots(embedded)
    in_bucket = {
        name.removeprefix("exports/"): body
        for name, body in s3.objects("data").items()
        if name.startswith("exports/") and name.endswith(".json")
    }
    # The latest interval's run may have landed too: compare the triggered day's.
    assert expected and {path: in_bucket.get(path) for path in expected} == expected


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
