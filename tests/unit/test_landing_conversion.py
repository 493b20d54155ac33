"""A landing of an older release (JSONL message partitions) converted in place to Parquet."""

from __future__ import annotations

import datetime as dt
import os
import re

import duckdb

from label_overview import coverage, landing
from label_overview.settings import Settings
from label_overview.steps import convert_landing
from tests.conftest import cli

DAY = dt.date(2026, 3, 2)
ITEM = (
    b'{"timestamp":1772409600123,"date":"2026-03-02T00:00:00.123Z","conversationId":"c1",'
    b'"kind":"text","source":"MESSENGER","labels":["complaint"],"customLabelIds":[],"_line":1}\n'
)


def rows(path):
    return duckdb.execute(
        'select "_line", "timestamp", "conversationId", labels from read_parquet($path)',
        {"path": str(path)},
    ).fetchall()


def test_an_empty_partition_stays_a_landed_day_with_no_rows(tmp_path):
    partition = landing.message_partition_path(tmp_path / "landing", "W", "M", DAY)
    partition.parent.mkdir(parents=True)
    partition.with_name(landing.JSONL_MESSAGES_FILE).write_bytes(b"")
    assert not landing.is_columnar(tmp_path / "landing")

    assert convert_landing(Settings(home=tmp_path)) == 1
    assert rows(partition) == []
    assert coverage.landed_days(tmp_path / "landing", "W", "M", "messages") == {DAY}
    assert landing.is_columnar(tmp_path / "landing")


def test_a_partition_pulled_again_since_keeps_its_parquet_file(tmp_path):
    # An extract of this release wrote the Parquet file after an older one wrote the JSONL file
    # (or a conversion stopped between the two): the Parquet file is the newer.
    partition = landing.message_partition_path(tmp_path / "landing", "W", "M", DAY)
    with duckdb.connect() as connection:
        landing.write_message_partition(connection, partition, ITEM)
    partition.with_name(landing.JSONL_MESSAGES_FILE).write_bytes(ITEM + ITEM.replace(b"c1", b"c2"))

    assert convert_landing(Settings(home=tmp_path)) == 0
    assert rows(partition) == [(1, 1772409600123, "c1", ["complaint"])]
    assert os.listdir(partition.parent) == [landing.MESSAGES_FILE]


def test_a_partition_that_is_not_json_lines_stops_the_conversion_in_one_line(tmp_path):
    partition = landing.message_partition_path(tmp_path / "landing", "W", "M", DAY)
    partition.parent.mkdir(parents=True)
    jsonl = partition.with_name(landing.JSONL_MESSAGES_FILE)
    jsonl.write_bytes(ITEM + b'{"timestamp": 1, "conversat\n')

    result = cli({**os.environ, "LABEL_OVERVIEW_HOME": str(tmp_path)}, "convert-landing")
    assert result.returncode == 1
    assert result.stdout == ""
    # One line naming the file (DuckDB's own numbering of the bad line is its business).
    assert re.fullmatch(
        re.escape(
            f"label-overview convert-landing: error: cannot convert {jsonl}: Invalid Input"
            " Error: Malformed JSON, at byte 28 in line "
        )
        + r"\d+: unexpected control character in string\.\n",
        result.stderr,
    )
    assert os.listdir(partition.parent) == [landing.JSONL_MESSAGES_FILE]
    assert jsonl.read_bytes() == ITEM + b'{"timestamp": 1, "conversat\n'
    assert not landing.is_columnar(tmp_path / "landing")
