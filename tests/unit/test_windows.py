"""UTC days, window checks, chunking and ISO weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from label_overview.windows import Window, WindowError, iso_instant, parse_day, trailing_window


def test_window_edges_are_whole_utc_days():
    window = Window.parse("2026-06-01", "2026-06-30")
    assert (window.from_instant, window.to_instant) == (
        "2026-06-01T00:00:00.000Z",
        "2026-06-30T23:59:59.999Z",
    )
    assert window.contains_ms(window.start_ms) and window.contains_ms(window.end_ms)
    assert not window.contains_ms(window.start_ms - 1) and not window.contains_ms(window.end_ms + 1)
    assert iso_instant(window.end_ms + 1) == "2026-07-01T00:00:00.000Z"


@pytest.mark.parametrize("text", ["2026-6-1", "2026-02-30", "20260601", "", "2026-06-01T00:00:00"])
def test_malformed_days_are_rejected(text):
    with pytest.raises(WindowError, match="must be a date like 2026-06-01"):
        parse_day(text)


def test_cap_and_order():
    assert Window.parse("2026-06-01", "2026-07-01", max_days=31).day_count == 31
    with pytest.raises(WindowError, match="spans 32 days; at most 31"):
        Window.parse("2026-06-01", "2026-07-02", max_days=31)
    with pytest.raises(WindowError, match="is after to"):
        Window.parse("2026-06-02", "2026-06-01")


def test_chunks_cover_the_window_in_order_without_overlap():
    chunks = Window.parse("2026-01-01", "2026-03-15").chunks()
    assert [str(c) for c in chunks] == [
        "2026-01-01..2026-01-31",
        "2026-02-01..2026-03-03",
        "2026-03-04..2026-03-15",
    ]


def test_week_buckets_are_iso_mondays_clipped_to_the_window():
    window = Window.parse("2026-12-30", "2027-01-05")
    assert window.bucket_keys("week") == ["2026-12-28", "2027-01-04"]
    assert [str(w) for w in window.iso_weeks()] == [
        "2026-12-28..2027-01-03",
        "2027-01-04..2027-01-10",
    ]


def test_trailing_window_is_31_days_ending_on_the_day():
    assert str(trailing_window(dt.date(2026, 6, 30))) == "2026-05-31..2026-06-30"
