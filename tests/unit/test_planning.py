"""The planning rule and the coverage ledger's reading of the landing, without the API."""

from __future__ import annotations

import datetime as dt

from label_overview import coverage, landing
from label_overview.extract import Pair
from label_overview.files import write_atomic
from label_overview.steps import PairPlan, Plan, planned_days
from label_overview.windows import Window

D = dt.date(2026, 1, 13)


def days(first: str, last: str) -> set[dt.date]:
    return set(Window.parse(first, last).days())


def test_a_first_run_pulls_its_whole_trailing_window():
    planned = planned_days(Window(D, D), 2, landed=set())
    assert sorted(planned) == sorted(days("2025-12-14", "2026-01-13"))
    assert planned[D] == "requested"
    assert planned[dt.date(2026, 1, 11)] == planned[dt.date(2026, 1, 12)] == "lookback"
    assert {planned[day] for day in days("2025-12-14", "2026-01-10")} == {"never landed"}


def test_a_hole_in_the_trailing_window_is_pulled_again():
    landed = days("2025-12-14", "2026-01-12") - {dt.date(2026, 1, 5)}
    planned = planned_days(Window(D, D), 2, landed)
    assert planned == {
        dt.date(2026, 1, 5): "never landed",
        dt.date(2026, 1, 11): "lookback",
        dt.date(2026, 1, 12): "lookback",
        D: "requested",
    }


def test_a_backfill_pulls_its_days_and_lookback_and_nothing_before_the_trailing_window():
    planned = planned_days(Window.parse("2025-10-01", "2026-01-13"), 2, landed=set())
    assert sorted(planned) == sorted(days("2025-09-29", "2026-01-13"))
    assert planned[dt.date(2025, 9, 29)] == "lookback"
    assert planned[dt.date(2025, 10, 1)] == "requested"


def test_the_build_covers_every_planned_day():
    pair_plan = PairPlan(
        Pair("W", "M"),
        (Window.parse("2026-01-05", "2026-01-05"), Window.parse("2026-01-11", "2026-01-13")),
    )
    plan = Plan(Window(D, D), 2, (pair_plan,), {"X": "listing its channels failed"})
    assert plan.build_window == Window.parse("2026-01-05", "2026-01-13")
    assert plan.publish_day == D
    assert plan.workspace_ids == ["W", "X"]


def test_landed_days_are_the_partitions_on_disk_empty_ones_included(tmp_path):
    landing_dir = tmp_path / "landing"
    for day in (dt.date(2026, 1, 3), dt.date(2026, 1, 4)):
        write_atomic(landing.message_partition_path(landing_dir, "W", "M", day), b"")
    write_atomic(
        landing.overview_partition_path(landing_dir, "W", "M", "day", dt.date(2026, 1, 4)), b"{}"
    )
    # A folder without its file (a partition deleted by hand) is not landed.
    (landing.message_partitions_dir(landing_dir, "W", "M") / "day=2026-01-05").mkdir()
    assert coverage.landed_days(landing_dir, "W", "M", "messages") == {
        dt.date(2026, 1, 3),
        dt.date(2026, 1, 4),
    }
    assert coverage.landed_days(landing_dir, "W", "M", "label-overview") == {dt.date(2026, 1, 4)}
    assert coverage.landed_days(landing_dir, "W", "M", "both") == {dt.date(2026, 1, 4)}
    assert coverage.landed_days(landing_dir, "W", "other", "both") == set()


def test_days_are_described_as_runs():
    found = [dt.date(2026, 1, 5), dt.date(2026, 1, 8), dt.date(2026, 1, 7), dt.date(2026, 1, 9)]
    assert coverage.describe_days(found) == "2026-01-05, 2026-01-07..2026-01-09"
    assert coverage.day_runs(found) == [
        Window.parse("2026-01-05", "2026-01-05"),
        Window.parse("2026-01-07", "2026-01-09"),
    ]
