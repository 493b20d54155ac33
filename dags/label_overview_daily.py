"""
### Label overview, daily

Every early morning (UTC), pulls the Dynamo API's VIP messages and label-overview responses
for the previous UTC day plus a lookback (late labels), rebuilds those days of the DuckDB
marts with one `dbt build`, and publishes each workspace's trailing 31-day snapshots.

* The run's day is its data interval start (never "now"): `airflow backfill create
  --dag-id label_overview_daily --from-date D1 --to-date D2` queues one run per day.
* Credentials: connection `dynamo_default` (host = base URL, login = key, password = secret).
* Pools: `dynamo_api` caps concurrent API pulls; `duckdb_writer` (1 slot) serializes writers.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from label_overview.airflow_tasks import DEFAULT_ARGS, wire
from label_overview.notify import on_run_failure


@dag(
    schedule=CronDataIntervalTimetable(
        os.environ.get("LABEL_OVERVIEW_DAILY_CRON", "30 2 * * *"), timezone="UTC"
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=on_run_failure,
    doc_md=__doc__,
    tags=["label-overview", "dynamo"],
)
def label_overview_daily():
    wire(check_freshness=True)


label_overview_daily()
