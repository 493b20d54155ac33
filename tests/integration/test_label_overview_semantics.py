"""GET /label-overview on a small fixed dataset, against hand-computed documents.

The dataset exercises every rule of the spec's semantics section: the window's edges at
00:00:00.000 and 23:59:59.999 (and one millisecond outside), weeks clipped at both ends,
duplicate labels on a message, a custom id without metadata, unlabeled messages, two
messages of one conversation in one millisecond, and distinct counts that do not add up.
"""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest

from dynamo_emulator.dataset import Dataset
from dynamo_emulator.reference import compute_label_overview
from dynamo_emulator.server import running_emulator
from label_overview.contract import label_overview_schema
from label_overview.dynamo.client import DynamoClient
from label_overview.dynamo.errors import BusinessRuleError
from label_overview.overview import render_label_overview
from label_overview.windows import Window

SCHEMA = label_overview_schema()
W, M = "ws_fixed", "FB_PAGE_100000000000001"
WINDOW = Window.parse("2026-06-03", "2026-06-09")  # Wednesday .. next Tuesday


def at(day: str, time: str = "12:00:00.000") -> int:
    moment = dt.datetime.fromisoformat(f"{day}T{time}+00:00")
    return int(moment.timestamp() * 1000)


def message(conversation, timestamp, labels=(), custom=()):
    return {
        "workspaceId": W,
        "mediumId": M,
        "timestamp": timestamp,
        "date": "",
        "conversationId": conversation,
        "userName": "x",
        "kind": "text",
        "source": "messenger",
        "labels": list(labels),
        "customLabelIds": list(custom),
        "text": "x",
    }


MESSAGES = [
    message("c1", at("2026-06-02", "23:59:59.999"), ["question"]),  # 1 ms before: never counts
    message("c1", at("2026-06-03", "00:00:00.000"), ["question", "question"]),  # first ms
    message("c2", at("2026-06-03"), custom=["cl_known", "cl_known"]),
    message("c1", at("2026-06-07", "23:59:59.999"), ["question"], ["cl_gone"]),  # Sunday's last ms
    message("c3", at("2026-06-08", "00:00:00.000")),  # unlabeled, Monday's first ms
    message("c3", at("2026-06-08", "00:00:00.000"), ["frustrated"]),  # same conversation and ms
    message("c1", at("2026-06-09", "23:59:59.999"), ["frustrated"]),  # the window's last ms
    message("c2", at("2026-06-10", "00:00:00.000"), ["frustrated"]),  # 1 ms after: never counts
]
CUSTOM_LABELS = {"cl_known": {"name": "Refund request", "color": "#ff0000"}}


def counts(count, unique):
    return {"count": count, "uniqueConversations": unique}


def activity(messages, conversations):
    return {"userMessages": messages, "activeConversations": conversations}


COMMON = {
    "totals": {
        "cl_gone": counts(1, 1),
        "cl_known": counts(1, 1),
        "frustrated": counts(2, 2),
        "question": counts(2, 1),  # two days of c1: distinct over the window is 1, not 1 + 1
    },
    "activityTotals": activity(6, 3),
    "customLabels": {
        "cl_gone": {"name": "cl_gone", "color": None},
        "cl_known": {"name": "Refund request", "color": "#ff0000"},
    },
    "conversationsScanned": 3,
}
EXPECTED_DAY = {
    "workspaceId": W,
    "mediumId": M,
    "groupBy": "day",
    "from": "2026-06-03T00:00:00.000Z",
    "to": "2026-06-09T23:59:59.999Z",
    "buckets": {
        "2026-06-03": {"cl_known": counts(1, 1), "question": counts(1, 1)},
        "2026-06-04": {},
        "2026-06-05": {},
        "2026-06-06": {},
        "2026-06-07": {"cl_gone": counts(1, 1), "question": counts(1, 1)},
        "2026-06-08": {"frustrated": counts(1, 1)},
        "2026-06-09": {"frustrated": counts(1, 1)},
    },
    "totals": COMMON["totals"],
    "activity": {
        "2026-06-03": activity(2, 2),
        "2026-06-04": activity(0, 0),
        "2026-06-05": activity(0, 0),
        "2026-06-06": activity(0, 0),
        "2026-06-07": activity(1, 1),
        "2026-06-08": activity(2, 1),
        "2026-06-09": activity(1, 1),
    },
    "activityTotals": COMMON["activityTotals"],
    "customLabels": COMMON["customLabels"],
    "conversationsScanned": 3,
}
EXPECTED_WEEK = {
    **EXPECTED_DAY,
    "groupBy": "week",
    "buckets": {
        # Clipped to 06-03..06-07: the 06-02 message of the same ISO week does not count.
        "2026-06-01": {"cl_gone": counts(1, 1), "cl_known": counts(1, 1), "question": counts(2, 1)},
        # Clipped to 06-08..06-09: the 06-10 message does not count.
        "2026-06-08": {"frustrated": counts(2, 2)},
    },
    "activity": {"2026-06-01": activity(3, 2), "2026-06-08": activity(3, 2)},
}


@pytest.fixture(scope="module")
def client():
    dataset = Dataset(
        organization={"id": "org", "name": "Org", "active": True},
        api_keys=[{"key": "k", "secret": "s3cr3t-for-tests-only"}],
        workspaces=[
            {
                "id": W,
                "name": "W",
                "type": "VIP",
                "vipIndicator": "",
                "vipIndicatorInProcess": False,
            }
        ],
        channels=[{"id": M, "type": "FB_PAGE", "name": "Page", "workspaceIds": [W]}],
        custom_labels=[
            {"workspaceId": W, "id": "cl_known", "name": "Refund request", "color": "#ff0000"}
        ],
        messages=MESSAGES,
    )
    with (
        running_emulator(dataset) as emulator,
        DynamoClient(emulator.base_url, "k", "s3cr3t-for-tests-only") as c,
    ):
        yield c


@pytest.mark.parametrize(("group_by", "expected"), [("day", EXPECTED_DAY), ("week", EXPECTED_WEEK)])
def test_reference_and_emulator_match_hand_computed(client, group_by, expected):
    computed = compute_label_overview(
        MESSAGES,
        workspace_id=W,
        medium_id=M,
        window=WINDOW,
        group_by=group_by,
        custom_labels=CUSTOM_LABELS,
    )
    assert computed == expected
    served = client.label_overview(W, M, WINDOW, group_by)
    assert served.document == expected
    assert list(served.document) == list(expected)  # the spec's top-level key order
    jsonschema.validate(served.document, SCHEMA)


def test_exact_bytes_of_a_one_day_answer(client):
    served = client.label_overview(W, M, Window.parse("2026-06-08", "2026-06-08"))
    assert served.body == (
        b'{"workspaceId":"ws_fixed","mediumId":"FB_PAGE_100000000000001","groupBy":"day",'
        b'"from":"2026-06-08T00:00:00.000Z","to":"2026-06-08T23:59:59.999Z",'
        b'"buckets":{"2026-06-08":{"frustrated":{"count":1,"uniqueConversations":1}}},'
        b'"totals":{"frustrated":{"count":1,"uniqueConversations":1}},'
        b'"activity":{"2026-06-08":{"userMessages":2,"activeConversations":1}},'
        b'"activityTotals":{"userMessages":2,"activeConversations":1},'
        b'"customLabels":{},"conversationsScanned":1}'
    )
    assert served.body == render_label_overview(served.document)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [("2026-06-09", "2026-06-03", "is after to"), ("2026-06-01", "2026-07-02", "at most 31")],
)
def test_reversed_and_long_windows_are_400(client, first, last, message):
    with pytest.raises(BusinessRuleError, match=message) as raised:
        client._get_json(
            "label-overview", {"workspaceId": W, "mediumId": M, "from": first, "to": last}
        )
    assert raised.value.status == 400
