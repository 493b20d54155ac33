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

DAY = {"type": "string", "format": "date", "description": "UTC day, YYYY-MM-DD"}


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    params={"from": Param(**DAY), "to": Param(**DAY)},
    doc_md=__doc__,
    tags=["label-overview", "dynamo", "backfill"],
)
def label_overview_backfill():
    wire("{{ params['from'] }}", "{{ params['to'] }}")


label_overview_backfill()
