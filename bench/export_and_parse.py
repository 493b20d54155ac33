"""Scenarios 4 and 5: publishing snapshots against one aggregate query, and DAG parsing."""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench.common import FULL, START, land_generated
from bench.transform import measured_build
from label_overview.pipeline import publish
from label_overview.settings import Settings
from label_overview.windows import trailing_window

REPO = Path(__file__).resolve().parents[1]

ALL_AGGREGATES = """
select workspace_id, channel_id, sent_on, week_start, label,
       count(*), count(distinct conversation_id)
from marts.fct_labeled_messages where sent_on between $first and $last
group by grouping sets (
    (workspace_id, channel_id, sent_on, label),
    (workspace_id, channel_id, week_start, label),
    (workspace_id, channel_id, label))
union all
select workspace_id, channel_id, sent_on, week_start, null,
       count(*), count(distinct conversation_id)
from marts.fct_user_messages where sent_on between $first and $last
group by grouping sets (
    (workspace_id, channel_id, sent_on),
    (workspace_id, channel_id, week_start),
    (workspace_id, channel_id))
"""


def export_overhead(work: Path) -> dict:
    workspaces = 250 if FULL else 25
    home = work / f"export-{workspaces}"
    land_generated(work, home, days=31, workspaces=workspaces, channels=2, per_day=40)
    (home / "warehouse.duckdb").unlink(missing_ok=True)
    measured_build(home)
    last = START + dt.timedelta(days=30)
    settings = Settings(home=home)
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    pairs = connection.execute("select count(*) from marts.dim_channels").fetchone()[0]
    ids = [
        w
        for (w,) in connection.execute(
            "select workspace_id from marts.dim_workspaces where is_vip"
        ).fetchall()
    ]
    window = trailing_window(last)

    def floor() -> float:
        started = time.perf_counter()
        connection.execute(
            ALL_AGGREGATES, {"first": window.first_day, "last": window.last_day}
        ).fetchall()
        return time.perf_counter() - started

    floor_s = statistics.median(floor() for _ in range(3))
    connection.close()
    ours = []
    for _ in range(3):
        started = time.perf_counter()
        files = publish(settings, ids, last)
        ours.append(time.perf_counter() - started)
    ours_s = statistics.median(ours)
    return {
        "pairs": pairs,
        "files": files,
        "publish_s": round(ours_s, 3),
        "one_query_s": round(floor_s, 3),
        "ratio": round(ours_s / floor_s, 2),
        "target_ratio": 2.0,
    }


PARSE = """
import time, airflow
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=%r)
assert not bag.import_errors, bag.import_errors
print(time.perf_counter() - started)
"""


def dag_parsing(work: Path) -> dict:
    env = {
        "AIRFLOW_HOME": str(work / "airflow-parse"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PATH": "/usr/bin:/bin",
    }
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", PARSE % str(REPO / "dags")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(5)
    ]
    return {"dagbag_s": round(statistics.median(times), 3), "target_s": 0.3}
