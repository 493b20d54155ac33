"""
### Label overview, snapshot consumers

An example of a data-aware consumer: runs whenever a daily or backfill run publishes
snapshots (the asset `label_overview_snapshots`), and logs, per workspace, the manifest that
changed. Copy it to push each workspace's snapshots elsewhere: every triggering event's
`extra` holds `workspace_id`, `day`, `manifest` (the manifest's path) and `files`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from label_overview.airflow_tasks import SNAPSHOTS, log_published_snapshots


@dag(
    schedule=[SNAPSHOTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["label-overview", "consumer"],
)
def label_overview_snapshot_consumers():
    log_published_snapshots()


label_overview_snapshot_consumers()
