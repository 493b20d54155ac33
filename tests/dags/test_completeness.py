"""Completeness through real Airflow: a first daily run publishes exactly what the API answers,
the next run heals a hole, and a stale landing fails the freshness task."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pytest

from label_overview import landing
from label_overview.windows import iso_instant, trailing_window
from tests.conftest import DATA_START, api_answers, day_of, published_snapshots

from .conftest import CLEAN_DAY, copy_home, daily_logical_date, point_airflow_at, run_dag


def vip_message_windows(requests: list[dict], workspace_id: str, medium_id: str) -> set:
    """The (from, to) of each first page the emulator served a pair (pages after it carry
    ``before``)."""
    return {
        (r["query"]["from"], r["query"]["to"])
        for r in requests
        if r["path"].endswith("/vip-messages")
        and r["query"]["workspaceId"] == workspace_id
        and r["query"]["mediumId"] == medium_id
        and "before" not in r["query"]
    }


def snapshots_ending(home, day: dt.date) -> dict[str, bytes]:
    window = trailing_window(day)
    name = f"{window.first_day}_{day}.json"
    return {p: b for p, b in published_snapshots(home).items() if p.endswith(name)}


def test_a_first_daily_run_publishes_the_api_answers_and_the_next_heals_a_hole(
    dagbag, emulator, dataset, tmp_path, monkeypatch, clean_daily_run
):
    # The first run is the shared clean daily run of CLEAN_DAY on a fresh data root.
    day, states = CLEAN_DAY, clean_daily_run.states
    assert clean_daily_run.state == "success", states
    assert states["freshness", -1] == "success"
    # Fresh data root: the first run lands the whole trailing window, so its snapshots are the
    # API's answers for every pair, byte for byte.
    assert snapshots_ending(clean_daily_run.home, day) == api_answers(emulator, dataset, day)

    home = copy_home(clean_daily_run.home, tmp_path / "home")
    point_airflow_at(monkeypatch, emulator, dataset, home)
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    # A day with messages, inside the next run's window and before its lookback.
    hole = DATA_START + dt.timedelta(days=1)
    assert any(
        (m["workspaceId"], m["mediumId"]) == (workspace_id, medium_id) and day_of(m) == hole
        for m in dataset.messages
    )
    partition = landing.message_partition_path(home / "landing", workspace_id, medium_id, hole)
    shutil.rmtree(partition.parent)
    emulator.control.clear_requests()
    next_day = day + dt.timedelta(days=1)
    assert hole < next_day - dt.timedelta(days=2)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(next_day))
    assert run.state == "success", states
    requests = emulator.control.requests()
    lookback = (str(next_day - dt.timedelta(days=2)), str(next_day))
    assert vip_message_windows(requests, workspace_id, medium_id) == {
        (str(hole), str(hole)),
        lookback,
    }
    other = dataset.channels_of(workspace_id)[1]["id"]
    assert vip_message_windows(requests, workspace_id, other) == {lookback}
    assert snapshots_ending(home, next_day) == api_answers(emulator, dataset, next_day)


def land_fetched(home, dataset, hours_ago: float) -> None:
    """A landing whose every partition was fetched ``hours_ago``: one empty day per pair."""
    fetched_at = iso_instant(int((time.time() - hours_ago * 3600) * 1000))
    day = DATA_START
    for workspace_id in dataset.vip_workspace_ids():
        for channel in dataset.channels_of(workspace_id):
            with landing.MessagePartitions(
                home / "landing", workspace_id, channel["id"], keep_text=False
            ) as partitions:
                partitions.write([day], fetched_at=fetched_at, run_id="earlier")
            path = landing.overview_partition_path(
                home / "landing", workspace_id, channel["id"], "day", day
            )
            landing.write_overview_partition(
                path, params={}, body=b"{}", fetched_at=fetched_at, run_id="earlier"
            )


@pytest.mark.parametrize(("hours_ago", "verdict"), [(60, "failed"), (1, "success")])
def test_the_freshness_task_fails_on_a_stale_landing(
    dagbag, emulator, dataset, tmp_path, monkeypatch, capfd, hours_ago, verdict
):
    # Every pull fails (the API stopped answering for these workspaces): the freshness task
    # is what tells the landing went stale.
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    land_fetched(tmp_path, dataset, hours_ago)
    emulator.control.set_faults(failing_workspaces=dataset.vip_workspace_ids())
    day = DATA_START + dt.timedelta(days=5)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(day))
    assert run.state == "failed"
    assert states["freshness", -1] == verdict
    sources = json.loads((tmp_path / "dbt" / "target" / "sources.json").read_text())["results"]
    assert sorted((r["unique_id"], r["status"]) for r in sources) == [
        (
            "source.label_overview.landing.label_overview_daily",
            "error" if hours_ago > 50 else "pass",
        ),
        (
            "source.label_overview.landing.vip_message_fetches",
            "error" if hours_ago > 50 else "pass",
        ),
    ]
