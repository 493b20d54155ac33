"""``make demo``: the daily DAG through Airflow itself, on the embedded default.

Generates a story dataset (``generate``: weekday rhythm, growth, an incident, a quiet day,
late labels), serves it with the emulator on a free loopback port, prepares a project-local
Airflow (SQLite metadata in ./airflow_home, connection ``dynamo_default`` set to the emulator),
backfills the data's history with one ``label_overview_backfill`` run, runs
``airflow dags test label_overview_daily`` for each of the last 7 days of the data, renders the
label trend report of the incident's workspace, then summarizes what the marts show.

Each run sees the labels that had arrived by its time (the next morning, 02:30 UTC, the daily
schedule), so a day's late labels reach the marts through the next run's lookback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import Story, generate_dataset
from dynamo_emulator.server import running_emulator
from label_overview.settings import Settings
from label_overview.warehouse import read_only
from label_overview.windows import day_start_ms

# The demo runs from the repository it ships in (`make demo`): its dags/ and ./airflow_home.
REPO = Path(__file__).resolve().parents[2]
DEMO_START = dt.date(2026, 10, 1)
DEMO_DAYS = 42
DAG_RUNS = 7
# When the daily schedule runs (cron 30 2 * * *), the morning after its day.
RUN_TIME = dt.timedelta(hours=2, minutes=30)


def main() -> int:
    settings = Settings.from_env()
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO / "airflow_home")).absolute()
    dataset_dir = settings.home / "demo-dataset"
    generated = generate_dataset(dataset_dir, seed=7, start=DEMO_START, days=DEMO_DAYS, story=True)
    say(str(generated))
    dataset = Dataset.load(dataset_dir)
    last_day = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    started = time.monotonic()
    with running_emulator(dataset) as emulator:
        env = airflow_env(airflow_home, settings.home, emulator.base_url, dataset.api_keys[0])
        airflow(env, "db", "migrate")
        history_end = last_day - dt.timedelta(days=DAG_RUNS)
        history = {"from": str(DEMO_START), "to": str(history_end)}
        emulator.control.set_labels_as_of(run_time_ms(history_end))
        say(f"airflow dags test label_overview_backfill -c '{json.dumps(history)}'")
        airflow(env, "dags", "test", "label_overview_backfill", "-c", json.dumps(history))
        for offset in range(DAG_RUNS - 1, -1, -1):
            day = last_day - dt.timedelta(days=offset)
            emulator.control.set_labels_as_of(run_time_ms(day))
            # A daily run's day is its data interval start; dags test infers the interval
            # that ends at the logical date, so the logical date is the next morning.
            logical_date = f"{day + dt.timedelta(days=1)}T02:30:00+00:00"
            say(f"airflow dags test label_overview_daily {logical_date}  (day {day})")
            airflow(env, "dags", "test", "label_overview_daily", logical_date)
    report = incident_report(env, generated.story)
    print(summary(settings, dataset, generated.story, report, time.monotonic() - started))
    return 0


def run_time_ms(day: dt.date) -> int:
    """When the daily run of ``day`` starts: the labels that had arrived by then are served."""
    return day_start_ms(day + dt.timedelta(days=1)) + RUN_TIME // dt.timedelta(milliseconds=1)


def incident_report(env: dict[str, str], story: Story) -> Path:
    """The incident channel's label trend page (the CLI's report: the last 31 days)."""
    command = [
        str(Path(sys.executable).with_name("label-overview")),
        "report",
        "--workspace",
        story.incident_workspace_id,
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(f"demo: `label-overview report` failed (exit {completed.returncode})")
    pages = [Path(line) for line in completed.stdout.splitlines() if line.endswith(".html")]
    return next(page for page in pages if story.incident_channel_id in page.parts)


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


def summary(
    settings: Settings, dataset: Dataset, story: Story, report: Path, seconds: float
) -> str:
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
        shown = what_it_shows(connection, dataset, story)
    snapshots = sorted(settings.root.snapshots.glob("*/*/*/*.json"))
    lines = [
        f"Done in {seconds:.0f}s: a backfill and {DAG_RUNS} daily DAG runs through Airflow.",
        "Marts (rows):",
    ]
    lines += [f"  marts.{table:<36} {count:>9,}" for table, count in counts.items()]
    lines += ["What the marts show:", *shown]
    lines += [
        f"The incident in a chart: {report}",
        f"Snapshots: {len(snapshots)} files under {settings.root.snapshots}/"
        "<workspace>/<channel>/<day|week>/",
        f"Query the marts: `make sql` (DuckDB CLI on {settings.home}/warehouse.read.duckdb),"
        f" or Parquet under {settings.home}/parquet/<mart>/",
    ]
    return "\n".join(lines)


def what_it_shows(connection, dataset: Dataset, story: Story) -> list[str]:
    """The story's events as the marts hold them, each in one line."""
    spike = connection.execute(
        """
        select day, message_count from marts.fct_label_counts_daily
        where workspace_id = $w and channel_id = $c and label = $label
        order by day
        """,
        {
            "w": story.incident_workspace_id,
            "c": story.incident_channel_id,
            "label": story.incident_label,
        },
    ).fetchall()
    usual = [count for day, count in spike if day not in story.incident_days]
    during = [count for day, count in spike if day in story.incident_days]
    quiet = connection.execute(
        """
        select day, user_messages, trailing_median from marts.rpt_quiet_channels
        where workspace_id = $w and channel_id = $c
        """,
        {"w": story.quiet_workspace_id, "c": story.quiet_channel_id},
    ).fetchall()
    labeled = dict(
        connection.execute(
            "select sent_on, count(*) filter (where is_labeled) from marts.fct_user_messages"
            " group by sent_on"
        ).fetchall()
    )
    first, last = story.incident_days
    lines = [
        f"  Incident: {story.incident_label} on {story.incident_channel_id}:"
        f" {' and '.join(map(str, during))} messages on {first} and {last},"
        f" against a median of {statistics.median_high(usual)} a day on its other days.",
    ]
    lines += [
        f"  Quiet channel: {story.quiet_channel_id} on {day}: {messages} user messages against"
        f" a trailing median of {median:g} (marts.rpt_quiet_channels; the run warned)."
        for day, messages, median in quiet
    ]
    arrived = _labeled_by_day(dataset)
    complete = [day for day, count in arrived.items() if labeled.get(day) == count]
    last_day = max(arrived)
    waiting = arrived[last_day] - labeled.get(last_day, 0)
    lines.append(
        f"  Late labels: {len(complete)} of {len(arrived)} days hold every label the API has"
        f" today; {last_day} still waits for {waiting} labeled messages whose labels"
        " arrive the next day (the next run's lookback re-pulls the day)."
    )
    return lines


def _labeled_by_day(dataset: Dataset) -> dict[dt.date, int]:
    """Labeled messages per UTC day once every label has arrived."""
    days: dict[dt.date, int] = {}
    for message in dataset.messages:
        day = dt.date.fromisoformat(message["date"][:10])
        labeled = bool(message["labels"] or message["customLabelIds"])
        days[day] = days.get(day, 0) + labeled
    return days


def say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
