"""The coverage ledger: which UTC days of a workspace × channel pair have been landed.

The landing's partition files are the one truth. A day is landed for a pair when its partition
file exists, empty or not ("pulled and empty"); a day with no file was never pulled. The
planner reads the files here, before dbt runs; dbt's ``marts.fct_landing_coverage`` lists the
same partitions with their fetch times and runs, and is what publishing and ``export`` check,
since they answer from the warehouse that was built from those files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from label_overview import landing
from label_overview.windows import Window


class CoverageError(LookupError):
    """A window holds days that were never landed, so no answer for it would be exact."""


def landed_days(landing_dir: Path, workspace_id: str, channel_id: str, mode: str) -> set[dt.date]:
    """The days landed for a pair in everything ``mode`` pulls (both: messages and responses)."""
    found = []
    if mode in ("messages", "both"):
        folder = landing.message_partitions_dir(landing_dir, workspace_id, channel_id)
        found.append(_partition_days(folder, landing.MESSAGES_FILE))
    if mode in ("label-overview", "both"):
        folder = landing.overview_partitions_dir(landing_dir, workspace_id, channel_id, "day")
        found.append(_partition_days(folder, landing.RESPONSE_FILE))
    return set.intersection(*found)


def _partition_days(folder: Path, file_name: str) -> set[dt.date]:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return set()
    days = set()
    for entry in entries:
        key, _, value = entry.name.partition("=")
        if key == "day" and (entry / file_name).is_file():
            days.add(dt.date.fromisoformat(value))
    return days


@dataclass(frozen=True)
class WindowCoverage:
    """One pair's coverage of a window in the warehouse: the days never landed, and when the
    messages of the landed days were fetched (ISO-8601 UTC; None where none was recorded)."""

    missing: list[dt.date]
    fetched_from: str | None
    fetched_to: str | None


def window_coverage(
    connection: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[str, str]], window: Window
) -> dict[tuple[str, str], WindowCoverage]:
    """Each pair's coverage of ``window`` by landed message partitions, which every answer
    needs (snapshots are computed from the messages)."""
    rows = connection.execute(
        """with pairs as (
               select unnest($workspaces::varchar[]) as workspace_id,
                      unnest($channels::varchar[]) as channel_id
           ),
           days as (
               select unnest(generate_series($first::date, $last::date, interval 1 day))::date
                   as day
           )
           select
               pairs.workspace_id,
               pairs.channel_id,
               coalesce(list(days.day order by days.day) filter (coverage.day is null), []),
               strftime(min(coverage.messages_fetched_at), '%Y-%m-%dT%H:%M:%S.%gZ'),
               strftime(max(coverage.messages_fetched_at), '%Y-%m-%dT%H:%M:%S.%gZ')
           from pairs
           cross join days
           left join marts.fct_landing_coverage as coverage
               on coverage.workspace_id = pairs.workspace_id
               and coverage.channel_id = pairs.channel_id
               and coverage.day = days.day
               and coverage.messages_landed
           group by all""",
        {
            "workspaces": [w for w, _ in pairs],
            "channels": [m for _, m in pairs],
            "first": window.first_day,
            "last": window.last_day,
        },
    ).fetchall()
    return {(w, m): WindowCoverage(missing, first, last) for w, m, missing, first, last in rows}


def require_landed(
    connection: duckdb.DuckDBPyConnection, pairs: Sequence[tuple[str, str]], window: Window
) -> None:
    """Raise CoverageError naming the first pair with days of ``window`` never landed, and the
    command that lands them."""
    incomplete = sorted(
        (pair, coverage.missing)
        for pair, coverage in window_coverage(connection, pairs, window).items()
        if coverage.missing
    )
    if incomplete:
        (workspace_id, channel_id), days = incomplete[0]
        span = Window(days[0], days[-1])
        raise CoverageError(
            f"{workspace_id}/{channel_id}: {describe_days(days)} never landed; land them with"
            f" `label-overview run --from {span.first_day} --to {span.last_day}"
            f" --workspace {workspace_id}`"
        )


def day_runs(days: Iterable[dt.date]) -> list[Window]:
    """Consecutive days as windows: [Jan 5, Jan 7, Jan 8] → [Jan 5..5, Jan 7..8]."""
    runs: list[Window] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1].last_day == dt.timedelta(days=1):
            runs[-1] = Window(runs[-1].first_day, day)
        else:
            runs.append(Window(day, day))
    return runs


def describe_days(days: Iterable[dt.date]) -> str:
    """Days in a line: "2026-01-05, 2026-01-07..2026-01-08"."""
    return ", ".join(
        str(run.first_day) if run.day_count == 1 else str(run) for run in day_runs(days)
    )


def quiet_days(connection: duckdb.DuckDBPyConnection, window: Window) -> list[str]:
    """One line per day of ``window`` on which a connected channel went quiet
    (``marts.rpt_quiet_channels``): ``W/M 2026-06-16: 4 user messages, trailing median 81``."""
    rows = connection.execute(
        """select workspace_id, channel_id, day, user_messages, trailing_median
           from marts.rpt_quiet_channels
           where day between $first and $last
           order by all""",
        {"first": window.first_day, "last": window.last_day},
    ).fetchall()
    return [
        f"{workspace_id}/{channel_id} {day}: {messages} user messages, trailing median {median:g}"
        for workspace_id, channel_id, day, messages, median in rows
    ]
