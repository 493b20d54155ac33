"""
### Label overview, backfill of a window

Triggered by hand with `from` and `to` (UTC days, any length): pulls the whole window in one
run (the API client splits it into chunks of at most 31 days), rebuilds those days with one
`dbt build`, and publishes the trailing 31-day snapshots ending on `to`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from label_overview.airflow_tasks import DEFAULT_ARGS, wire
from label_overview.notify import on_run_failure

# No default, yet null allowed: on Airflow 3.3.2 a DAG failure callback's context is built
# without the run's conf, and a param that must have a value would fail there. A run without
# both days still fails at once, in its plan task ("a run needs from and to").
DAY = {"type": ["null", "string"], "format": "date", "description": "UTC day, YYYY-MM-DD"}


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    on_failure_callback=on_run_failure,
    params={"from": Param(None, **DAY), "to": Param(None, **DAY)},
    doc_md=__doc__,
    tags=["label-overview", "dynamo", "backfill"],
)
def label_overview_backfill():
    wire("{{ params['from'] }}", "{{ params['to'] }}")


label_overview_backfill()
