"""``make demo``: the daily DAG through Airflow itself, on the embedded default.

Generates a dataset, serves it with the emulator on a free loopback port, prepares a
project-local Airflow (SQLite metadata in ./airflow_home, connection ``dynamo_default`` set
to the emulator), backfills the data's history with one ``label_overview_backfill`` run, runs
``airflow dags test label_overview_daily`` for each of the last 7 days of the data, then
summarizes the marts and snapshots.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import generate_dataset
from dynamo_emulator.server import running_emulator
from label_overview.settings import Settings
from label_overview.warehouse import read_only

# The demo runs from the repository it ships in (`make demo`): its dags/ and ./airflow_home.
REPO = Path(__file__).resolve().parents[2]
DEMO_START = dt.date(2026, 10, 1)
DEMO_DAYS = 42
DAG_RUNS = 7


def main() -> int:
    settings = Settings.from_env()
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO / "airflow_home")).absolute()
    dataset_dir = settings.home / "demo-dataset"
    say(str(generate_dataset(dataset_dir, seed=7, start=DEMO_START, days=DEMO_DAYS)))
    key = Dataset.load(dataset_dir).api_keys[0]
    last_day = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    started = time.monotonic()
    with running_emulator(dataset_dir) as emulator:
        env = airflow_env(airflow_home, settings.home, emulator.base_url, key)
        airflow(env, "db", "migrate")
        history = {"from": str(DEMO_START), "to": str(last_day - dt.timedelta(days=DAG_RUNS))}
        say(f"airflow dags test label_overview_backfill -c '{json.dumps(history)}'")
        airflow(env, "dags", "test", "label_overview_backfill", "-c", json.dumps(history))
        for offset in range(DAG_RUNS - 1, -1, -1):
            day = last_day - dt.timedelta(days=offset)
            # A daily run's day is its data interval start; dags test infers the interval
            # that ends at the logical date, so the logical date is the next morning.
            logical_date = f"{day + dt.timedelta(days=1)}T02:30:00+00:00"
            say(f"airflow dags test label_overview_daily {logical_date}  (day {day})")
            airflow(env, "dags", "test", "label_overview_daily", logical_date)
    print(summary(settings, time.monotonic() - started))
    return 0


def airflow_env(airflow_home: Path, data_home: Path, base_url: str, key: dict) -> dict[str, str]:
    connection = {
        "conn_type": "http",
        "host": base_url,
        "login": key["key"],
        "password": key["secret"],
    }
    return {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_DYNAMO_DEFAULT": json.dumps(connection),
        "AIRFLOW_VAR_LABEL_OVERVIEW_HOME": str(data_home),
        "LABEL_OVERVIEW_HOME": str(data_home),
    }


def airflow(env: dict[str, str], *args: str) -> None:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"demo: `airflow {' '.join(args)}` failed (exit {completed.returncode})")


def summary(settings: Settings, seconds: float) -> str:
    with read_only(settings.root.warehouse) as connection:
        counts = {
            table: connection.execute(f"select count(*) from marts.{table}").fetchone()[0]
            for table in (
                "fct_user_messages",
                "fct_labeled_messages",
                "fct_label_counts_daily",
                "fct_label_counts_weekly",
                "fct_activity_daily",
                "fct_activity_weekly",
                "fct_landing_coverage",
                "rpt_label_overview_reconciliation",
            )
        }
    snapshots = sorted(settings.root.snapshots.glob("*/*/*/*.json"))
    lines = [
        f"Done in {seconds:.0f}s: a backfill and {DAG_RUNS} daily DAG runs through Airflow.",
        "Marts (rows):",
    ]
    lines += [f"  marts.{table:<36} {count:>9,}" for table, count in counts.items()]
    lines += [
        f"Snapshots: {len(snapshots)} files under {settings.root.snapshots}/"
        "<workspace>/<channel>/<day|week>/",
        f"Warehouse: {settings.root.warehouse}",
        "Query it read-only, e.g.:",
        f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.root.warehouse}',"
        " read_only=True).sql('select * from marts.fct_label_counts_daily"
        " order by all limit 10'))\"",
    ]
    return "\n".join(lines)


def say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
