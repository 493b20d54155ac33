"""A channel that goes quiet (a revoked page token looks like this): the dbt test warns, and
the run's record names the pair and the day; the same data without the drop warns of nothing."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

from dynamo_emulator.dataset import Dataset
from label_overview.layout import DataRoot
from label_overview.warehouse import read_only
from tests.conftest import (
    BUSY_DAYS,
    DATA_START,
    QUIET_DAY,
    cli,
    day_of,
    pipeline_env,
    with_quiet_day,
)


def run_warnings(emulator_for, data: Path, home: Path) -> list[str]:
    emulator = emulator_for(data, retry_after_s=0)
    last = DATA_START + dt.timedelta(days=BUSY_DAYS - 1)
    env = pipeline_env(emulator, Dataset.load(data), home)
    assert cli(env, "run", "--from", str(DATA_START), "--to", str(last)).returncode == 0
    with read_only(DataRoot(home).warehouse) as connection:
        [(warnings, tests_warned)] = connection.execute(
            "select warnings, dbt_tests_warned from marts.fct_pipeline_runs"
        ).fetchall()
    assert tests_warned == (1 if warnings else 0)
    return warnings


def daily_counts(data: Path, pair: tuple[str, str]) -> dict[dt.date, int]:
    counts: dict[dt.date, int] = {}
    for message in Dataset.load(data).messages:
        if (message["workspaceId"], message["mediumId"]) == pair:
            counts[day_of(message)] = counts.get(day_of(message), 0) + 1
    return counts


def test_a_channel_at_five_percent_for_a_day_warns_and_names_it(
    busy_dataset, emulator_for, tmp_path
):
    dataset = Dataset.load(busy_dataset)
    workspace_id = dataset.vip_workspace_ids()[0]
    pair = (workspace_id, dataset.channels_of(workspace_id)[0]["id"])
    quiet = tmp_path / "quiet"
    with_quiet_day(busy_dataset, quiet, pair)

    counts = daily_counts(quiet, pair)
    # The median covers the 28 days before, as landed: a first run lands its whole trailing
    # 31-day window, so the days before the data begins count as pulled and empty.
    first_landed = DATA_START + dt.timedelta(days=BUSY_DAYS - 1 - 30)
    before = [
        counts.get(QUIET_DAY - dt.timedelta(days=n), 0)
        for n in range(1, 29)
        if QUIET_DAY - dt.timedelta(days=n) >= first_landed
    ]
    expected = (
        f"{pair[0]}/{pair[1]} {QUIET_DAY}: {counts[QUIET_DAY]} user messages,"
        f" trailing median {statistics.median(before):g}"
    )
    assert counts[QUIET_DAY] * 20 <= daily_counts(busy_dataset, pair)[QUIET_DAY] + 19
    assert run_warnings(emulator_for, quiet, tmp_path / "quiet_home") == [expected]
    assert run_warnings(emulator_for, busy_dataset, tmp_path / "plain_home") == []
