"""Scenario 6: one daily DAG run through dag.test(), its time split by task."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import FULL, START
from bench.extraction import emulator_process
from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import generate_dataset

REPO = Path(__file__).resolve().parents[1]

RUN = """
import collections, datetime as dt, json, sys
from airflow.utils import db
from airflow.dag_processing.dagbag import DagBag
db.resetdb()
dag = DagBag(dag_folder=sys.argv[1]).get_dag("label_overview_daily")
run = dag.test(logical_date=dt.datetime.fromisoformat(sys.argv[2]))
by_task = collections.defaultdict(list)
for ti in run.get_task_instances():
    by_task[ti.task_id].append(ti.duration or 0.0)
print(json.dumps({"state": str(run.state),
                  "tasks": {t: {"instances": len(d), "sum_s": round(sum(d), 2),
                                "max_s": round(max(d), 2)} for t, d in by_task.items()}}))
"""


def daily_dag_run(work: Path) -> dict:
    workspaces, per_day = (25, 20_000) if FULL else (3, 2_000)
    dataset_dir = work / f"e2e-{workspaces}-{per_day}"
    if not (dataset_dir / "messages.jsonl").exists():
        generate_dataset(
            dataset_dir,
            seed=8,
            start=START,
            days=3,
            workspaces=workspaces,
            channels_per_workspace=2,
            messages_per_day=per_day,
        )
    key = Dataset.load_metadata(dataset_dir).api_keys[0]
    day = START + dt.timedelta(days=2)
    with emulator_process(dataset_dir) as base_url:
        connection = {
            "conn_type": "http",
            "host": base_url,
            "login": key["key"],
            "password": key["secret"],
        }
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(work / "e2e-airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_DYNAMO_DEFAULT": json.dumps(connection),
            "AIRFLOW_VAR_LABEL_OVERVIEW_HOME": str(work / "e2e-home"),
        }
        logical_date = f"{day + dt.timedelta(days=1)}T02:30:00+00:00"
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(REPO / "dags"), logical_date],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    pairs = result["tasks"]["extract"]["instances"]
    return {"pairs": pairs, "messages_per_pair_day": per_day, **result}
