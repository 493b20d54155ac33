"""The export's JSON, written by DuckDB, against the reference renderer, byte for byte.

Labels, custom label names and colours are arbitrary text from the API: any code point,
quotes, backslashes and every control character must be escaped as ``render_label_overview``
escapes them. The marts are built by hand here, in memory, from the same messages the
reference computes from.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo_emulator.reference import compute_label_overview, message_labels
from label_overview.documents import label_overview_bodies
from label_overview.overview import render_label_overview
from label_overview.windows import GROUP_BYS, Window, day_of_ms, day_start_ms, week_monday

W, M = "ws_a", "FB_PAGE_100000000000001"
WINDOW = Window.parse("2026-06-03", "2026-06-16")
HOSTILE = ["\x00", "\x0b", "\x1f", '"', "\\", "\\u001F", "/", "\x7f", "\u2028", "é", "😀", "</"]

texts = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=6))
messages = st.lists(
    st.fixed_dictionaries(
        {
            "timestamp": st.integers(
                day_start_ms(WINDOW.first_day) - 86_400_000, WINDOW.end_ms + 86_400_000
            ),
            "conversationId": st.sampled_from(["c1", "c2", "c3"]),
            "labels": st.lists(texts, max_size=3),
            "customLabelIds": st.lists(texts, max_size=2),
        }
    ),
    max_size=12,
)


def warehouse(rows: list[dict], custom_labels: dict[str, dict]):
    """In-memory marts holding ``rows`` as the dbt build would."""
    import duckdb

    connection = duckdb.connect()
    connection.execute(
        """create schema marts;
           create table marts.fct_user_messages (workspace_id varchar, channel_id varchar,
               conversation_id varchar, sent_on date, week_start date);
           create table marts.fct_labeled_messages (workspace_id varchar, channel_id varchar,
               conversation_id varchar, sent_on date, week_start date, label varchar,
               is_custom_label boolean);
           create table marts.dim_custom_labels (workspace_id varchar, custom_label_id varchar,
               custom_label_name varchar, custom_label_color varchar)"""
    )
    for row in rows:
        day = day_of_ms(row["timestamp"])
        keys = [W, M, row["conversationId"], day, week_monday(day)]
        connection.execute("insert into marts.fct_user_messages values (?, ?, ?, ?, ?)", keys)
        for label in message_labels(row):
            connection.execute(
                "insert into marts.fct_labeled_messages values (?, ?, ?, ?, ?, ?, ?)",
                [*keys, label, label in row["customLabelIds"]],
            )
    for label_id, meta in custom_labels.items():
        connection.execute(
            "insert into marts.dim_custom_labels values (?, ?, ?, ?)",
            [W, label_id, meta["name"], meta["color"]],
        )
    return connection


@settings(max_examples=60, deadline=None)
@given(rows=messages, names=st.lists(texts, min_size=1, max_size=3), color=texts)
def test_bodies_are_the_reference_bytes(rows, names, color):
    custom_ids = sorted({label for row in rows for label in row["customLabelIds"]})
    # Some custom labels described (one without a colour), the rest left to their ids.
    custom_labels = {
        label_id: {"name": names[i % len(names)], "color": color if i % 2 else None}
        for i, label_id in enumerate(custom_ids[::2])
    }
    connection = warehouse(rows, custom_labels)
    bodies = label_overview_bodies(connection, [(W, M)], WINDOW)
    # Publishing asks twice on one connection (snapshots, then reports): the second answer is
    # the same bytes, control characters included.
    assert label_overview_bodies(connection, [(W, M)], WINDOW) == bodies
    for group_by in GROUP_BYS:
        expected = compute_label_overview(
            rows,
            workspace_id=W,
            medium_id=M,
            window=WINDOW,
            group_by=group_by,
            custom_labels=custom_labels,
        )
        assert bodies[W, M, group_by] == render_label_overview(expected)


def test_a_pair_without_messages_has_every_bucket_empty():
    bodies = label_overview_bodies(
        warehouse([], {}), [(W, M)], Window(dt.date(2026, 6, 1), dt.date(2026, 6, 2))
    )
    assert bodies[W, M, "week"] == (
        b'{"workspaceId":"ws_a","mediumId":"FB_PAGE_100000000000001","groupBy":"week",'
        b'"from":"2026-06-01T00:00:00.000Z","to":"2026-06-02T23:59:59.999Z",'
        b'"buckets":{"2026-06-01":{}},"totals":{},'
        b'"activity":{"2026-06-01":{"userMessages":0,"activeConversations":0}},'
        b'"activityTotals":{"userMessages":0,"activeConversations":0},"customLabels":{},'
        b'"conversationsScanned":0}'
    )
