"""Lineage: a daily run writes OpenLineage events to the file transport (set in conftest), one
START and one COMPLETE per task run, each naming what the task read and wrote."""

from __future__ import annotations

from collections import defaultdict


def test_a_daily_run_writes_one_start_and_one_complete_per_task(dataset, clean_daily_run):
    # The shared clean daily run (conftest): the events it wrote while it ran.
    home, states = clean_daily_run.home, clean_daily_run.states
    assert clean_daily_run.state == "success", states
    events = clean_daily_run.lineage_events
    task_events = [e for e in events if e["job"]["name"] != "label_overview_daily"]

    by_run = defaultdict(list)
    for event in task_events:
        by_run[event["job"]["name"], event["run"]["runId"]].append(event)
    assert sorted(
        (name, [e["eventType"] for e in run_events]) for (name, _), run_events in by_run.items()
    ) == sorted((f"label_overview_daily.{task_id}", ["START", "COMPLETE"]) for task_id, _ in states)

    [build] = [
        e
        for e in task_events
        if e["job"]["name"].endswith(".build") and e["eventType"] == "COMPLETE"
    ]
    warehouse = f"duckdb://{home / 'warehouse.duckdb'}"
    marts = {
        o["name"]
        for o in build["outputs"]
        if o["namespace"] == warehouse and o["name"].startswith("marts.")
    }
    assert marts == {
        "marts.dim_channels",
        "marts.dim_custom_labels",
        "marts.dim_workspaces",
        "marts.fct_activity_daily",
        "marts.fct_activity_weekly",
        "marts.fct_label_counts_daily",
        "marts.fct_label_counts_weekly",
        "marts.fct_labeled_messages",
        "marts.fct_landing_coverage",
        "marts.fct_pipeline_runs",
        "marts.fct_user_messages",
        "marts.rpt_label_overview_reconciliation",
        "marts.rpt_quiet_channels",
    }
    assert {i["name"] for i in build["inputs"]} == {
        str(home / "landing" / table)
        for table in ("vip_messages", "label_overview_daily", "label_overview_weekly", "reference")
    }
    publishes = [
        e
        for e in task_events
        if e["job"]["name"].endswith(".publish") and e["eventType"] == "COMPLETE"
    ]
    written = {o["name"] for e in publishes for o in e["outputs"] if o["namespace"] == "file"}
    manifests = {str(home / "exports" / w / "manifest.json") for w in dataset.vip_workspace_ids()}
    assert manifests <= written
    assert len(written) == len(manifests) + 2 * sum(
        len(dataset.channels_of(w)) for w in dataset.vip_workspace_ids()
    )
