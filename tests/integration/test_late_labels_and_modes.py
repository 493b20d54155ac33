"""Late labels (lookback and reruns) and the three extraction modes, against the emulator."""

from __future__ import annotations

import datetime as dt

import duckdb

from label_overview.documents import label_overview_document
from label_overview.dynamo.client import DynamoClient
from label_overview.warehouse import read_only
from label_overview.windows import Window, day_of_ms
from tests.conftest import DATA_DAYS, DATA_START, cli, marts_rows, pipeline_env

LAST_DAY = DATA_START + dt.timedelta(days=DATA_DAYS - 1)


def _a_message_on(dataset, day: dt.date) -> dict:
    return next(
        m
        for m in dataset.messages
        if day_of_ms(m["timestamp"]) == day and m["workspaceId"] in dataset.vip_workspace_ids()
    )


def _ours_and_api(home, emulator, dataset, message, window):
    key = dataset.api_keys[0]
    with DynamoClient(emulator.base_url, key["key"], key["secret"]) as client:
        api = client.label_overview(message["workspaceId"], message["mediumId"], window)
    with read_only(home / "warehouse.duckdb") as connection:
        ours = label_overview_document(
            connection, message["workspaceId"], message["mediumId"], window
        )
    return ours, api.document


def _relabel(emulator, message, labels):
    emulator.control.relabel(
        workspace_id=message["workspaceId"],
        medium_id=message["mediumId"],
        conversation_id=message["conversationId"],
        timestamp=message["timestamp"],
        labels=labels,
        custom_label_ids=[],
    )


def test_late_relabel_inside_lookback_and_by_rerun(tmp_path, emulator, dataset):
    env = pipeline_env(emulator, dataset, tmp_path)
    assert cli(env, "run", "--from", "2026-06-01", "--to", "2026-06-10").returncode == 0

    inside = _a_message_on(dataset, dt.date(2026, 6, 9))
    outside = _a_message_on(dataset, dt.date(2026, 6, 3))
    _relabel(emulator, inside, ["late_label_inside"])
    _relabel(emulator, outside, ["late_label_outside"])

    daily = cli(env, "run", "--from", "2026-06-10", "--to", "2026-06-10")
    assert daily.returncode == 0, daily.stderr
    ours, api = _ours_and_api(
        tmp_path, emulator, dataset, inside, Window.parse("2026-06-09", "2026-06-09")
    )
    assert ours["totals"]["late_label_inside"]["count"] >= 1
    assert ours == api
    ours, api = _ours_and_api(
        tmp_path, emulator, dataset, outside, Window.parse("2026-06-03", "2026-06-03")
    )
    assert "late_label_outside" not in ours["totals"]
    assert "late_label_outside" in api["totals"]

    rerun = cli(env, "run", "--from", "2026-06-03", "--to", "2026-06-03")
    assert rerun.returncode == 0, rerun.stderr
    ours, api = _ours_and_api(
        tmp_path, emulator, dataset, outside, Window.parse("2026-06-03", "2026-06-03")
    )
    assert ours["totals"]["late_label_outside"]["count"] >= 1
    assert ours == api


def _counts(home, table):
    connection = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        columns = [
            c
            for (c,) in connection.execute(
                "select column_name from information_schema.columns"
                f" where table_schema = 'marts' and table_name = '{table}'"
                " and column_name not in ('counted_from', 'days_covered')"
                " order by ordinal_position"
            ).fetchall()
        ]
        return connection.execute(
            f"select {', '.join(columns)} from marts.{table} order by all"
        ).fetchall()
    finally:
        connection.close()


def test_label_overview_mode_counts_equal_message_counts(tmp_path, emulator, dataset):
    days = ("--from", str(DATA_START), "--to", str(LAST_DAY))
    by_messages, by_api = tmp_path / "messages", tmp_path / "api"
    result = cli(pipeline_env(emulator, dataset, by_messages), "run", *days, "--mode", "messages")
    assert result.returncode == 0, result.stderr
    result = cli(pipeline_env(emulator, dataset, by_api), "run", *days, "--mode", "label-overview")
    assert result.returncode == 0, result.stderr
    for table in (
        "fct_label_counts_daily",
        "fct_label_counts_weekly",
        "fct_activity_daily",
        "fct_activity_weekly",
    ):
        from_messages = _counts(by_messages, table)
        assert from_messages, table
        assert _counts(by_api, table) == from_messages, table
    assert marts_rows(by_api)["rpt_label_overview_reconciliation"] == []
    # How much of a week is behind its numbers differs by mode: the API's weekly answers hold
    # whole past weeks; the messages hold the days landed, from Friday 2026-05-22 (the first
    # day of the trailing window) on.
    assert _days_covered(by_api) == {dt.date(2026, 5, 18): 7, **dict.fromkeys(WEEKS, 7)}
    assert _days_covered(by_messages) == {dt.date(2026, 5, 18): 3, **dict.fromkeys(WEEKS, 7)}


WEEKS = [dt.date(2026, 5, 25), dt.date(2026, 6, 1), dt.date(2026, 6, 8), dt.date(2026, 6, 15)]


def _days_covered(home) -> dict[dt.date, int]:
    """Each week's days_covered, the same for every pair and in both weekly marts."""
    connection = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = connection.execute(
            """select distinct week_start, days_covered from marts.fct_activity_weekly
               union
               select distinct week_start, days_covered from marts.fct_label_counts_weekly"""
        ).fetchall()
    finally:
        connection.close()
    assert len(rows) == len({week for week, _ in rows}), rows
    return dict(rows)


def test_both_mode_reconciles_with_no_difference(first_week_home):
    rows = marts_rows(first_week_home)["rpt_label_overview_reconciliation"]
    assert rows
    differences = [row for row in rows if row[6] != 0 or row[9] != 0]
    assert differences == []
