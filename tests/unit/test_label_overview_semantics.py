"""The spec's label-overview semantics, rule by rule, on a small hand-built case.

``compute_label_overview`` and ``render_label_overview`` are the reference every other
implementation (emulator, warehouse export) is compared with, so their answers here are
checked against documents computed by hand, not against themselves.

The window is Wednesday 2026-06-03 .. Tuesday 2026-06-16 (14 days). Its ISO weeks are
Monday 06-01 (clipped to 06-03..06-07), 06-08 (no messages at all) and 06-15 (clipped to
06-15..06-16). Conversations: c1 talks on four days, c2 twice, c3 once unlabeled, c4 sends
a labeled text and an unlabeled attachment in one millisecond, c5 only outside the window.
"""

from __future__ import annotations

import datetime as dt
import random

import jsonschema
import pytest

from dynamo_emulator.reference import compute_label_overview
from label_overview.contract import label_overview_schema
from label_overview.overview import render_label_overview
from label_overview.windows import Window, WindowError

W, M = "ws_a", "FB_PAGE_100000000000001"
WINDOW = Window.parse("2026-06-03", "2026-06-16")
CUSTOM_LABELS = {
    "cl_vip": {"name": "Réclamation VIP", "color": "#aa0000"},
    "cl_unused": {"name": "Never seen", "color": "#00aa00"},
}


def at(day: str, time: str = "12:00:00.000") -> int:
    """Epoch ms of a UTC day and time."""
    return int(dt.datetime.fromisoformat(f"{day}T{time}+00:00").timestamp() * 1000)


def message(conversation: str, timestamp: int, labels=(), custom=(), kind="text") -> dict:
    return {
        "workspaceId": W,
        "mediumId": M,
        "timestamp": timestamp,
        "date": "",
        "conversationId": conversation,
        "userName": "u",
        "kind": kind,
        "source": "messenger",
        "labels": list(labels),
        "customLabelIds": list(custom),
        "text": "t",
    }


MESSAGES = [
    # Outside the window but inside the first bucket's ISO week: never counted.
    message("c1", at("2026-06-01", "10:00:00.000"), ["frustrated"]),
    message("c1", at("2026-06-02", "23:59:59.999"), ["question"]),  # 1 ms before the window
    # 06-03, the window's first day.
    message("c1", at("2026-06-03", "00:00:00.000"), ["question", "question"]),  # first ms; dup
    message("c2", at("2026-06-03", "09:30:00.000"), custom=["cl_vip", "cl_vip"]),  # dup custom
    message("c3", at("2026-06-03", "18:00:00.000")),  # unlabeled: activity only
    # 06-05: one label given both as a built-in value and as a custom id counts once.
    message("c2", at("2026-06-05"), ["cl_vip"], ["cl_vip"]),
    # 06-07, Sunday's last ms (end of the first week); cl_orphan has no metadata.
    message("c1", at("2026-06-07", "23:59:59.999"), ["question"], ["cl_orphan"]),
    # 06-08 .. 06-14: nothing.
    # 06-15, Monday's first ms: a labeled text and an unlabeled attachment together.
    message("c4", at("2026-06-15", "00:00:00.000"), ["frustrated"]),
    message("c4", at("2026-06-15", "00:00:00.000"), kind="attachment"),
    message("c1", at("2026-06-16", "23:59:59.999"), ["frustrated", "question"]),  # last ms
    # Outside the window but inside the last bucket's ISO week: never counted.
    message("c2", at("2026-06-17", "00:00:00.000"), ["frustrated"]),  # 1 ms after the window
    message("c5", at("2026-06-21"), ["frustrated"]),
]


def counts(count: int, unique: int) -> dict[str, int]:
    return {"count": count, "uniqueConversations": unique}


def activity(messages: int, conversations: int) -> dict[str, int]:
    return {"userMessages": messages, "activeConversations": conversations}


def days(first: int, last: int) -> list[str]:
    return [f"2026-06-{day:02d}" for day in range(first, last + 1)]


# Whole-window parts, the same for both groupings. Distinct counts over the window are not
# the sums of the buckets: question is 3 messages of c1 alone (1, not 3 by day or 2 by
# week); activeConversations is 4 (c1..c4), while the day buckets add up to 7.
TOTALS = {
    "cl_orphan": counts(1, 1),
    "cl_vip": counts(2, 1),  # messages of 06-03 and 06-05, both c2
    "frustrated": counts(2, 2),  # c4 on 06-15, c1 on 06-16
    "question": counts(3, 1),
}
ACTIVITY_TOTALS = activity(8, 4)
CUSTOM = {
    "cl_orphan": {"name": "cl_orphan", "color": None},  # unknown id: its own name, no color
    "cl_vip": {"name": "Réclamation VIP", "color": "#aa0000"},
}  # cl_unused has metadata but no message: absent

EXPECTED_DAY = {
    "workspaceId": W,
    "mediumId": M,
    "groupBy": "day",
    "from": "2026-06-03T00:00:00.000Z",
    "to": "2026-06-16T23:59:59.999Z",
    "buckets": {
        **{key: {} for key in days(3, 16)},
        "2026-06-03": {"cl_vip": counts(1, 1), "question": counts(1, 1)},
        "2026-06-05": {"cl_vip": counts(1, 1)},
        "2026-06-07": {"cl_orphan": counts(1, 1), "question": counts(1, 1)},
        "2026-06-15": {"frustrated": counts(1, 1)},
        "2026-06-16": {"frustrated": counts(1, 1), "question": counts(1, 1)},
    },
    "totals": TOTALS,
    "activity": {
        **{key: activity(0, 0) for key in days(3, 16)},
        "2026-06-03": activity(3, 3),
        "2026-06-05": activity(1, 1),
        "2026-06-07": activity(1, 1),
        "2026-06-15": activity(2, 1),
        "2026-06-16": activity(1, 1),
    },
    "activityTotals": ACTIVITY_TOTALS,
    "customLabels": CUSTOM,
    "conversationsScanned": 4,
}
EXPECTED_WEEK = {
    **EXPECTED_DAY,
    "groupBy": "week",
    "buckets": {
        "2026-06-01": {  # 06-03..06-07 only
            "cl_orphan": counts(1, 1),
            "cl_vip": counts(2, 1),
            "question": counts(2, 1),
        },
        "2026-06-08": {},
        "2026-06-15": {"frustrated": counts(2, 2), "question": counts(1, 1)},  # 06-15..06-16
    },
    "activity": {
        "2026-06-01": activity(5, 3),
        "2026-06-08": activity(0, 0),
        "2026-06-15": activity(3, 2),
    },
}
TOP_LEVEL_KEYS = [
    "workspaceId",
    "mediumId",
    "groupBy",
    "from",
    "to",
    "buckets",
    "totals",
    "activity",
    "activityTotals",
    "customLabels",
    "conversationsScanned",
]


def overview(messages=MESSAGES, window=WINDOW, group_by="day") -> dict:
    return compute_label_overview(
        messages,
        workspace_id=W,
        medium_id=M,
        window=window,
        group_by=group_by,
        custom_labels=CUSTOM_LABELS,
    )


@pytest.mark.parametrize(("group_by", "expected"), [("day", EXPECTED_DAY), ("week", EXPECTED_WEEK)])
def test_documents_equal_the_hand_computed_ones(group_by, expected):
    document = overview(group_by=group_by)
    assert document == expected
    jsonschema.validate(document, label_overview_schema())


@pytest.mark.parametrize("group_by", ["day", "week"])
def test_key_order_is_the_spec_and_inner_keys_ascend(group_by):
    document = overview(group_by=group_by)
    assert list(document) == TOP_LEVEL_KEYS
    for part in ("buckets", "activity", "totals", "customLabels"):
        assert list(document[part]) == sorted(document[part])
    for labels in document["buckets"].values():
        assert list(labels) == sorted(labels)
    assert list(document["activity"]) == list(document["buckets"])


def test_conversations_scanned_equals_active_conversations():
    document = overview()
    assert document["conversationsScanned"] == document["activityTotals"]["activeConversations"]
    by_day = sum(a["activeConversations"] for a in document["activity"].values())
    assert (by_day, document["conversationsScanned"]) == (7, 4)


def test_exact_bytes_of_a_one_day_document():
    body = render_label_overview(overview(window=Window.parse("2026-06-15", "2026-06-15")))
    assert body == (
        b'{"workspaceId":"ws_a","mediumId":"FB_PAGE_100000000000001","groupBy":"day",'
        b'"from":"2026-06-15T00:00:00.000Z","to":"2026-06-15T23:59:59.999Z",'
        b'"buckets":{"2026-06-15":{"frustrated":{"count":1,"uniqueConversations":1}}},'
        b'"totals":{"frustrated":{"count":1,"uniqueConversations":1}},'
        b'"activity":{"2026-06-15":{"userMessages":2,"activeConversations":1}},'
        b'"activityTotals":{"userMessages":2,"activeConversations":1},'
        b'"customLabels":{},"conversationsScanned":1}'
    )


def test_exact_bytes_are_utf8_with_sorted_keys_and_empty_buckets():
    body = render_label_overview(overview(window=Window.parse("2026-06-04", "2026-06-05")))
    assert body == (
        b'{"workspaceId":"ws_a","mediumId":"FB_PAGE_100000000000001","groupBy":"day",'
        b'"from":"2026-06-04T00:00:00.000Z","to":"2026-06-05T23:59:59.999Z",'
        b'"buckets":{"2026-06-04":{},"2026-06-05":{"cl_vip":{"count":1,"uniqueConversations":1}}},'
        b'"totals":{"cl_vip":{"count":1,"uniqueConversations":1}},'
        b'"activity":{"2026-06-04":{"userMessages":0,"activeConversations":0},'
        b'"2026-06-05":{"userMessages":1,"activeConversations":1}},'
        b'"activityTotals":{"userMessages":1,"activeConversations":1},'
        b'"customLabels":{"cl_vip":{"name":"R\xc3\xa9clamation VIP","color":"#aa0000"}},'
        b'"conversationsScanned":1}'
    )


@pytest.mark.parametrize("group_by", ["day", "week"])
def test_bytes_do_not_depend_on_message_order(group_by):
    shuffled = MESSAGES[:]
    random.Random(4).shuffle(shuffled)
    assert render_label_overview(overview(shuffled, group_by=group_by)) == render_label_overview(
        overview(group_by=group_by)
    )


def test_a_window_without_messages_has_every_bucket_empty():
    document = overview(window=Window.parse("2026-06-09", "2026-06-10"), group_by="week")
    assert document["buckets"] == {"2026-06-08": {}}
    assert document["activity"] == {"2026-06-08": activity(0, 0)}
    assert document["totals"] == {} and document["customLabels"] == {}
    assert document["activityTotals"] == activity(0, 0)
    assert document["conversationsScanned"] == 0
    jsonschema.validate(document, label_overview_schema())


def test_the_longest_window_is_31_days():
    window = Window.parse("2026-06-01", "2026-07-01", max_days=31)
    assert (window.from_instant, window.to_instant) == (
        "2026-06-01T00:00:00.000Z",
        "2026-07-01T23:59:59.999Z",
    )
    assert Window.parse("2026-06-16", "2026-06-16", max_days=31).day_count == 1


@pytest.mark.parametrize(
    ("first", "last", "reason"),
    [
        ("2026-06-16", "2026-06-03", "is after to"),
        ("2026-06-01", "2026-07-02", "at most 31"),
        ("2026-06-01", "2026-6-30", "must be a date"),
    ],
)
def test_reversed_long_and_malformed_windows_are_rejected(first, last, reason):
    with pytest.raises(WindowError, match=reason):
        Window.parse(first, last, max_days=31)
