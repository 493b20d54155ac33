"""UTC days, windows and buckets: the calendar rules every part of the pipeline shares.

The spec's window is ``[from 00:00:00.000Z, to 23:59:59.999Z]`` of whole UTC days, at most
31 days long; week buckets are keyed by the ISO week's Monday and clipped to the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

MAX_WINDOW_DAYS = 31
GROUP_BYS = ("day", "week")
DAY_MS = 86_400_000
_EPOCH = dt.date(1970, 1, 1)


class WindowError(ValueError):
    """A window or date that breaks the spec's rules (malformed, reversed, too long)."""


# The days a run or an export may name: the API's timestamps are epoch milliseconds, and a
# year of room at the top keeps lookbacks, trailing windows and ISO weeks inside the calendar.
FIRST_DAY, LAST_DAY = _EPOCH, dt.date(9998, 12, 31)


def parse_day(text: str, *, name: str = "date") -> dt.date:
    """Parse a strict ``YYYY-MM-DD`` UTC day between FIRST_DAY and LAST_DAY.

    Raises:
        WindowError: when ``text`` is not a valid ISO calendar date in that range.
    """
    try:
        if len(text) != 10:
            raise ValueError
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise WindowError(f"{name} must be a date like 2026-06-01, got {text!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise WindowError(f"{name} must lie between {FIRST_DAY} and {LAST_DAY}, got {text!r}")
    return day


def day_start_ms(day: dt.date) -> int:
    """Epoch milliseconds of ``day`` at 00:00:00.000Z."""
    return (day - _EPOCH).days * DAY_MS


def day_of_ms(timestamp_ms: int) -> dt.date:
    """The UTC day an epoch-millisecond instant falls in."""
    return _EPOCH + dt.timedelta(days=timestamp_ms // DAY_MS)


def iso_instant(timestamp_ms: int) -> str:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    seconds, millis = divmod(timestamp_ms, 1000)
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def week_monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def bucket_key(day: dt.date, group_by: str) -> str:
    """The bucket key of a UTC day: the day itself, or its ISO week's Monday."""
    return (week_monday(day) if group_by == "week" else day).isoformat()


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive range of whole UTC days."""

    first_day: dt.date
    last_day: dt.date

    @classmethod
    def parse(cls, from_text: str, to_text: str, *, max_days: int | None = None) -> Window:
        """Build a window from ``YYYY-MM-DD`` strings, checking order and, if given, length."""
        window = cls(parse_day(from_text, name="from"), parse_day(to_text, name="to"))
        window.check(max_days)
        return window

    @classmethod
    def from_ms(cls, timestamp_ms: int) -> Window:
        """The one-day window holding an instant."""
        day = day_of_ms(timestamp_ms)
        return cls(day, day)

    def check(self, max_days: int | None = None) -> None:
        """Raise WindowError when the window is reversed or longer than ``max_days``."""
        if self.first_day > self.last_day:
            raise WindowError(f"from ({self.first_day}) is after to ({self.last_day})")
        if max_days is not None and self.day_count > max_days:
            raise WindowError(
                f"window {self.first_day}..{self.last_day} spans {self.day_count} days;"
                f" at most {max_days} are allowed"
            )

    @property
    def day_count(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start_ms(self) -> int:
        """First millisecond inside the window."""
        return day_start_ms(self.first_day)

    @property
    def end_ms(self) -> int:
        """Last millisecond inside the window (23:59:59.999 of the last day)."""
        return day_start_ms(self.last_day) + DAY_MS - 1

    @property
    def from_instant(self) -> str:
        return iso_instant(self.start_ms)

    @property
    def to_instant(self) -> str:
        return iso_instant(self.end_ms)

    def days(self) -> Iterator[dt.date]:
        for offset in range(self.day_count):
            yield self.first_day + dt.timedelta(days=offset)

    def contains_ms(self, timestamp_ms: int) -> bool:
        return self.start_ms <= timestamp_ms <= self.end_ms

    def bucket_keys(self, group_by: str) -> list[str]:
        """Every bucket overlapping the window, ascending (weeks by their Monday)."""
        return sorted({bucket_key(day, group_by) for day in self.days()})

    def chunks(self, max_days: int = MAX_WINDOW_DAYS) -> list[Window]:
        """Split into consecutive windows of at most ``max_days`` days."""
        self.check()
        pieces, start = [], self.first_day
        while start <= self.last_day:
            end = min(start + dt.timedelta(days=max_days - 1), self.last_day)
            pieces.append(Window(start, end))
            start = end + dt.timedelta(days=1)
        return pieces

    def iso_weeks(self) -> list[Window]:
        """The full ISO weeks (Monday..Sunday) that touch this window."""
        monday = week_monday(self.first_day)
        weeks = []
        while monday <= self.last_day:
            weeks.append(Window(monday, monday + dt.timedelta(days=6)))
            monday += dt.timedelta(days=7)
        return weeks

    def __str__(self) -> str:
        return f"{self.first_day}..{self.last_day}"


def trailing_window(day: dt.date, days: int = MAX_WINDOW_DAYS) -> Window:
    """The ``days``-long window ending on ``day`` inclusive: [day - (days-1), day]."""
    return Window(day - dt.timedelta(days=days - 1), day)


def with_lookback(window: Window, lookback_days: int) -> Window:
    """Extend a window backwards by ``lookback_days`` days (late labels re-pulled)."""
    return Window(window.first_day - dt.timedelta(days=lookback_days), window.last_day)
