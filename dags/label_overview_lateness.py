"""
### Label overview, lateness check

At the daily run's deadline (06:00 UTC by default, `LABEL_OVERVIEW_DEADLINE_CRON`), checks that a
run for the previous UTC day has finished (the run history's `finish` record) and emails the
Variable `label_overview_alert_emails` once if not. A DAG of its own rather than Airflow 3's
deadline alerts: on 3.3.2 those fire only from the scheduler with callbacks on LocalExecutor or
the triggerer, and a DAG that has one breaks `dag.test()` (README, "Operating it").
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from label_overview.airflow_tasks import check_lateness


@dag(
    schedule=CronDataIntervalTimetable(
        os.environ.get("LABEL_OVERVIEW_DEADLINE_CRON", "0 6 * * *"), timezone="UTC"
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["label-overview", "alerts"],
)
def label_overview_lateness():
    check_lateness()


label_overview_lateness()
