"""The emulator of the Dynamo External API over real loopback HTTP, against the spec.

Requests are signed here with a few lines of hmac (the project's client is tested on its
own), so that these tests pin the server's behaviour: authentication, the order of the
checks (403, 402, 422, 404, 400), paging, export, label overview, faults, the control
surface and the ``dynamo-emulator serve`` process.

The fixed case: one organization; VIP workspaces ws_vip (channel FB page) and ws_vip2
(Instagram), and ws_plain (not VIP, also on the FB page). On (ws_vip, FB page), nine
messages inside the window 2026-06-01..06-02 at T+0..T+5 ms (three share T+2, two share
T+4), one 1 ms before and one 1 ms after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jsonschema
import pytest

from dynamo_emulator.dataset import ITEM_FIELDS, Dataset, item_of
from dynamo_emulator.reference import compute_label_overview
from dynamo_emulator.server import EmulatorProcess, running_emulator
from dynamo_emulator.store import MessageStore, Query
from label_overview.contract import label_overview_schema
from label_overview.overview import render_label_overview
from label_overview.windows import Window, day_start_ms, iso_instant

KEY, SECRET = "key_test", "s3cr3t-for-emulator-tests"
VIP, VIP2, PLAIN = "ws_vip", "ws_vip2", "ws_plain"
PAGE, INSTA = "FB_PAGE_100000000000001", "INSTAGRAM_ACCOUNT_200000000000002"
T = day_start_ms(dt.date(2026, 6, 1)) + 43_200_000  # 2026-06-01T12:00:00.000Z
WINDOW = {"workspaceId": VIP, "mediumId": PAGE, "from": "2026-06-01", "to": "2026-06-02"}
DATA_PATHS = ("vip-messages", "vip-messages/export", "label-overview")


def workspace(workspace_id: str, kind: str, indicator: str = "", in_process: bool = False):
    return {
        "id": workspace_id,
        "name": workspace_id.upper(),
        "type": kind,
        "vipIndicator": indicator,
        "vipIndicatorInProcess": in_process,
    }


WORKSPACES = [
    workspace(VIP, "VIP", "⭐"),
    workspace(VIP2, "VIP", in_process=True),
    workspace(PLAIN, "STANDARD"),
]


def msg(conversation, timestamp, labels=(), custom=(), kind="text", workspace=VIP, medium=PAGE):
    return {
        "workspaceId": workspace,
        "mediumId": medium,
        "timestamp": timestamp,
        "date": iso_instant(timestamp),
        "conversationId": conversation,
        "userName": f"user {conversation}",
        "kind": kind,
        "source": "messenger",
        "labels": list(labels),
        "customLabelIds": list(custom),
        "text": f"hello from {conversation}",
    }


MESSAGES = [
    msg("c0", T - 43_200_001, ["frustrated"]),  # 2026-05-31T23:59:59.999Z: before the window
    msg("c2", T, ["question"]),
    msg("c1", T + 1, ["frustrated"], kind="attachment"),
    msg("c4", T + 2, custom=["cl_refund"]),
    msg("c5", T + 2, ["frustrated"]),
    msg("c2", T + 2, ["frustrated", "question"]),
    msg("c1", T + 3),
    msg("c2", T + 4, ["question"], kind="attachment"),
    msg("c3", T + 4, custom=["cl_refund"]),
    {**msg("c1", T + 5, ["frustrated"]), "text": 'He said "no", then left,\nangry'},
    msg("c9", T + 129_600_000, ["frustrated"]),  # 2026-06-03T00:00:00.000Z: after the window
    msg("c1", T, ["question"], workspace=VIP2, medium=INSTA),  # another pair entirely
]
# Newest first inside the window; ties come in reverse dataset order (stable, not promised).
NEWEST_FIRST = [("c1", 5), ("c3", 4), ("c2", 4), ("c1", 3), ("c2", 2), ("c5", 2), ("c4", 2),
                ("c1", 1), ("c2", 0)]  # fmt: skip


def dataset(active: bool = True) -> Dataset:
    return Dataset(
        organization={"id": "org_1", "name": "Org One", "active": active},
        api_keys=[{"key": "key_other", "secret": "other-secret"}, {"key": KEY, "secret": SECRET}],
        workspaces=WORKSPACES,
        channels=[
            {"id": PAGE, "type": "FB_PAGE", "name": "Page", "workspaceIds": [VIP, PLAIN]},
            {"id": INSTA, "type": "INSTAGRAM_ACCOUNT", "name": "Insta", "workspaceIds": [VIP2]},
        ],
        custom_labels=[
            {"workspaceId": VIP, "id": "cl_refund", "name": "Refund", "color": "#ff8800"},
            {"workspaceId": VIP2, "id": "cl_refund", "name": "Other refund", "color": None},
        ],
        messages=MESSAGES,
    )


def x_date(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def signature(secret: str, date: str) -> str:
    return hmac.new(secret.encode(), date.encode(), hashlib.sha256).hexdigest()


def signed_headers(*, key: str = KEY, secret: str = SECRET, skew_s: float = 0.0) -> dict:
    date = x_date(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew_s))
    return {"x-api-key": key, "x-date": date, "x-signature": signature(secret, date)}


class Signed(httpx.Auth):
    """Fresh headers for every request, as the spec asks of clients."""

    def auth_flow(self, request):
        request.headers.update(signed_headers())
        yield request


@pytest.fixture(scope="module")
def shared():
    """One emulator for the tests that only read (a fresh one costs ~0.2 s to stop)."""
    with running_emulator(dataset()) as running:
        yield running


@pytest.fixture
def http(shared):
    with httpx.Client(base_url=shared.base_url, auth=Signed(), timeout=10) as client:
        yield client


@pytest.fixture
def fresh(emulator_for):
    """A fresh emulator and a signed client, for tests that change the emulator."""
    running = emulator_for(dataset(), retry_after_s=0)
    with httpx.Client(base_url=running.base_url, auth=Signed(), timeout=10) as client:
        yield running, client


def keys(items: list[dict]) -> list[tuple[str, int]]:
    return [(item["conversationId"], item["timestamp"] - T) for item in items]


def message_at(key: tuple[str, int]) -> dict:
    """The (ws_vip, FB page) message of a (conversation, ms after T) key."""
    conversation, offset = key
    (found,) = [
        m
        for m in MESSAGES
        if (m["workspaceId"], m["conversationId"], m["timestamp"])
        == (VIP, conversation, T + offset)
    ]
    return found


# Authentication -----------------------------------------------------------------------


def test_signing_helper_matches_openssl():
    date = "2026-05-30T13:00:00.000Z"
    openssl = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", SECRET],
        input=date,
        capture_output=True,
        text=True,
        check=True,
    )
    assert openssl.stdout.split()[-1] == signature(SECRET, date)


@pytest.mark.parametrize(
    ("key", "secret", "skew_s"),
    [(KEY, SECRET, 0), (KEY, SECRET, -59), (KEY, SECRET, 4), ("key_other", "other-secret", 0)],
)
def test_signed_requests_within_the_window_are_accepted(shared, key, secret, skew_s):
    headers = signed_headers(key=key, secret=secret, skew_s=skew_s)
    answer = httpx.get(f"{shared.base_url}/organizations", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"id": "org_1", "name": "Org One"})


def _tampered(change: str) -> dict:
    headers = signed_headers()
    if change == "signature":
        headers["x-signature"] = signature("wrong-secret", headers["x-date"])
    elif change == "uppercase":
        headers["x-signature"] = headers["x-signature"].upper()
    elif change == "non-ascii":
        headers["x-signature"] = "é" * 64
    elif change == "date-after-signing":
        # Another last digit of the milliseconds: a different date, whatever the clock read.
        date = headers["x-date"]
        headers["x-date"] = date[:-2] + ("8" if date[-2] == "9" else "9") + "Z"
    elif change.startswith("no "):
        del headers[change[3:]]
    elif change == "unknown key":
        headers["x-api-key"] = "key_nobody"
    elif change == "other key's secret":
        headers = signed_headers(key="key_other")
    elif change == "malformed date":
        headers["x-date"] = "Sat, 30 May 2026 13:00:00 GMT"
        headers["x-signature"] = signature(SECRET, headers["x-date"])
    return headers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("signature", "Invalid signature"),
        ("uppercase", "Invalid signature"),
        ("non-ascii", "Invalid signature"),
        ("date-after-signing", "Invalid signature"),
        ("no x-api-key", "Missing x-api-key header"),
        ("no x-date", "Missing x-date header"),
        ("no x-signature", "Missing x-signature header"),
        ("unknown key", "Unknown API key"),
        ("other key's secret", "Invalid signature"),
        ("malformed date", "Malformed x-date header"),
    ],
)
def test_bad_credentials_are_403(shared, change, message):
    headers = {k: v.encode() for k, v in _tampered(change).items()}
    answer = httpx.get(f"{shared.base_url}/organizations", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["message"].startswith(message)
    assert SECRET not in answer.text


@pytest.mark.parametrize(("skew_s", "reason"), [(-61, "too old"), (6, "in the future")])
def test_dates_outside_the_window_are_403_naming_clock_skew(shared, skew_s, reason):
    answer = httpx.get(f"{shared.base_url}/workspaces", headers=signed_headers(skew_s=skew_s))
    assert answer.status_code == 403
    assert reason in answer.json()["message"] and "clock skew" in answer.json()["message"]


def test_inactive_organization_is_402_after_authentication(emulator_for):
    running = emulator_for(dataset(active=False))
    with httpx.Client(base_url=running.base_url, auth=Signed()) as client:
        for path in ("organizations", "workspaces", "channels", *DATA_PATHS):
            answer = client.get(path, params={"groupBy": "month"})  # 402 before 422
            assert (answer.status_code, answer.json()) == (
                402,
                {"message": "Organization is inactive"},
            )
        assert client.get("workspaces", auth=None).status_code == 403


def test_unknown_paths_and_methods_answer_json(http):
    assert http.get("nothing-here").json() == {"message": "Not Found"}
    not_allowed = http.post("workspaces")
    assert not_allowed.status_code == 405
    # Starlette lists the allowed methods from a set: their order varies between processes.
    assert sorted(not_allowed.headers["allow"].split(", ")) == ["GET", "HEAD"]


# Discovery ----------------------------------------------------------------------------


def test_discovery_endpoints(http):
    assert http.get("organizations").json() == {"id": "org_1", "name": "Org One"}
    assert http.get("workspaces").json() == WORKSPACES
    page = {"id": PAGE, "type": "FB_PAGE", "name": "Page"}
    insta = {"id": INSTA, "type": "INSTAGRAM_ACCOUNT", "name": "Insta"}
    assert http.get("channels").json() == [page, insta]
    assert http.get("channels", params={"workspaceId": VIP}).json() == [page]
    assert http.get("channels", params={"workspaceId": PLAIN}).json() == [page]
    assert http.get("channels", params={"workspaceId": VIP2}).json() == [insta]


# 422: the request's shape --------------------------------------------------------------


def entry(field: str, message: str, kind: str, **context) -> dict:
    return {
        "message": f'"{field}" {message}',
        "path": [field],
        "type": kind,
        "context": {"label": field, "key": field, **context},
    }


def test_missing_parameters_are_all_reported_in_order(http):
    answer = http.get("label-overview")
    assert answer.status_code == 422
    assert answer.json() == {
        "error": [
            entry(name, "is required", "any.required")
            for name in ("workspaceId", "mediumId", "from", "to")
        ]
    }


CONTENT_TYPES = ["text", "postback", "attachment", "other"]
ONE_OF_CONTENT_TYPES = "must be one of [text, postback, attachment, other]"


@pytest.mark.parametrize(
    ("path", "change", "expected"),
    [
        ("label-overview", {"groupBy": "month"},
         entry("groupBy", "must be one of [day, week]", "any.only", value="month",
               valids=["day", "week"])),
        ("label-overview", {"from": "2026-6-1"},
         entry("from", "must be in ISO 8601 date format", "date.format", value="2026-6-1")),
        ("vip-messages/export", {"to": "2026-06-31"},
         entry("to", "must be in ISO 8601 date format", "date.format", value="2026-06-31")),
        ("vip-messages", {"contentType": "video"},
         entry("contentType", ONE_OF_CONTENT_TYPES, "any.only", value="video",
               valids=CONTENT_TYPES)),
        ("vip-messages", {"limit": "0"},
         entry("limit", "must be greater than or equal to 1", "number.min", limit=1, value="0")),
        ("vip-messages", {"limit": "501"},
         entry("limit", "must be less than or equal to 500", "number.max", limit=500, value="501")),
        ("vip-messages", {"limit": "ten"},
         entry("limit", "must be a number", "number.base", value="ten")),
        ("vip-messages", {"limit": "2.5"},
         entry("limit", "must be an integer", "number.integer", value="2.5")),
        ("vip-messages", {"before": "yesterday"},
         entry("before", "must be a number", "number.base", value="yesterday")),
        ("vip-messages", {"workspaceId": ""},
         entry("workspaceId", "is not allowed to be empty", "string.empty", value="")),
        ("label-overview", {"groupby": "week"},
         entry("groupby", "is not allowed", "object.unknown", child="groupby", value="week")),
    ],
)  # fmt: skip
def test_each_invalid_shape_is_a_joi_style_422(http, path, change, expected):
    answer = http.get(path, params={**WINDOW, **change})
    assert (answer.status_code, answer.json()) == (422, {"error": [expected]})


def test_all_invalid_fields_are_reported_in_a_stable_order(http):
    query = {"before": "x", "limit": "0", "contentType": "video", "to": "soon", "mediumId": PAGE}
    answer = http.get("vip-messages", params={**query, "extra": "1"})
    paths = [e["path"][0] for e in answer.json()["error"]]
    assert paths == ["workspaceId", "from", "to", "contentType", "limit", "before", "extra"]


# The order of the checks, then 404 and 400 ---------------------------------------------


def test_shape_is_checked_before_existence_and_existence_before_rules(http):
    shape = http.get("label-overview", params={**WINDOW, "workspaceId": "ws_nope", "groupBy": "x"})
    assert shape.status_code == 422
    missing = {**WINDOW, "workspaceId": "ws_nope", "to": "2026-09-01"}
    assert http.get("label-overview", params=missing).status_code == 404
    both_rules = {**WINDOW, "workspaceId": PLAIN, "to": "2026-09-01"}
    assert http.get("label-overview", params=both_rules).json() == {
        "message": "Workspace is not a VIP workspace"
    }


@pytest.mark.parametrize("path", ["channels", *DATA_PATHS])
def test_unknown_workspace_is_404(http, path):
    params = (
        {"workspaceId": "ws_nope"} if path == "channels" else {**WINDOW, "workspaceId": "ws_nope"}
    )
    answer = http.get(path, params=params)
    assert (answer.status_code, answer.json()) == (404, {"message": "Workspace not found"})


@pytest.mark.parametrize("path", DATA_PATHS)
def test_unknown_channel_is_404(http, path):
    answer = http.get(path, params={**WINDOW, "mediumId": "FB_PAGE_999"})
    assert (answer.status_code, answer.json()) == (404, {"message": "Channel not found"})


@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workspaceId": PLAIN}, "Workspace is not a VIP workspace"),
        ({"mediumId": INSTA}, "Channel is not connected to the workspace"),
        ({"to": "2026-07-02"},
         "window 2026-06-01..2026-07-02 spans 32 days; at most 31 are allowed"),
        ({"from": "2026-06-03"}, "from (2026-06-03) is after to (2026-06-02)"),
    ],
)  # fmt: skip
def test_business_rules_are_400(http, path, change, message):
    answer = http.get(path, params={**WINDOW, **change})
    assert (answer.status_code, answer.json()) == (400, {"message": message})


@pytest.mark.parametrize("path", DATA_PATHS)
def test_a_31_day_window_is_accepted(http, path):
    assert http.get(path, params={**WINDOW, "to": "2026-07-01"}).status_code == 200


# vip-messages ---------------------------------------------------------------------------


def test_pages_follow_the_before_cursor_newest_first(http):
    pages, before = [], None
    while True:
        params = {**WINDOW, "limit": "3"} | ({"before": before} if before else {})
        page = http.get("vip-messages", params=params).json()
        pages.append(
            (keys(page["items"]), page["returned"], page["mayHaveMore"], page["nextCursor"])
        )
        if not page["mayHaveMore"]:
            break
        before = page["nextCursor"]
    assert pages == [
        ([("c1", 5), ("c3", 4), ("c2", 4)], 3, True, str(T + 4)),
        ([("c1", 3), ("c2", 2), ("c5", 2)], 3, True, str(T + 2)),
        # (c4, T+2) is never seen: the decided cursor splits a millisecond group, as the spec
        # warns; a correct client completes that millisecond another way.
        ([("c1", 1), ("c2", 0)], 2, False, None),
    ]


def test_items_have_the_spec_fields_in_order(http):
    items = http.get("vip-messages", params=WINDOW).json()["items"]
    assert [list(item) for item in items] == [list(ITEM_FIELDS)] * 9
    assert items == [item_of(message_at(key)) for key in NEWEST_FIRST]
    assert items[0]["date"] == "2026-06-01T12:00:00.005Z"


@pytest.mark.parametrize(
    ("limit", "returned", "more", "cursor"),
    [
        (None, 9, False, None),
        ("9", 9, False, None),
        ("8", 8, True, str(T + 1)),
        ("500", 9, False, None),
    ],
)
def test_may_have_more_only_when_items_remain(http, limit, returned, more, cursor):
    params = WINDOW | ({"limit": limit} if limit else {})
    page = http.get("vip-messages", params=params).json()
    assert (page["returned"], page["mayHaveMore"], page["nextCursor"]) == (returned, more, cursor)
    assert len(page["items"]) == returned


def test_a_cursor_at_the_oldest_item_gives_an_empty_last_page(http):
    page = http.get("vip-messages", params={**WINDOW, "before": str(T)}).json()
    assert page == {"items": [], "returned": 0, "mayHaveMore": False, "nextCursor": None}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"label": "frustrated"}, [("c1", 5), ("c2", 2), ("c5", 2), ("c1", 1)]),
        ({"label": "cl_refund"}, [("c3", 4), ("c4", 2)]),
        ({"contentType": "attachment"}, [("c2", 4), ("c1", 1)]),
        ({"label": "frustrated", "contentType": "attachment"}, [("c1", 1)]),
        ({"label": "nothing"}, []),
    ],
)
def test_label_and_content_type_filters(http, filters, expected):
    assert keys(http.get("vip-messages", params={**WINDOW, **filters}).json()["items"]) == expected


def test_a_filter_pages_with_the_cursor_too(http):
    seen, before = [], None
    for _ in range(4):
        params = {**WINDOW, "label": "question", "limit": "1"}
        if before:
            params["before"] = before
        page = http.get("vip-messages", params=params).json()
        seen.append((keys(page["items"]), page["nextCursor"]))
        before = page["nextCursor"]
        if before is None:
            break
    assert seen == [([("c2", 4)], str(T + 4)), ([("c2", 2)], str(T + 2)), ([("c2", 0)], None)]


def test_deep_pages_of_a_filtered_view_are_exact():
    # 200k messages in one pair, 500 pages deep (the speed of this lives in bench/, not here).
    labels = (["frustrated"], ["question"])
    many = [
        {"workspaceId": VIP, "mediumId": PAGE, "timestamp": T + i // 3, "labels": labels[i % 2]}
        for i in range(200_000)
    ]
    store = MessageStore(Dataset({}, [], [], [], [], many))
    store.page(Query(VIP, PAGE, T, T + 10**6, label="frustrated"), 100)  # builds the view
    for before in range(T + 60_000, T + 10_000, -100):  # 500 pages deep in the timeline
        items, more = store.page(Query(VIP, PAGE, T, before, label="frustrated"), 100)
        assert len(items) == 100 and more
        assert all(m["labels"] == ["frustrated"] and m["timestamp"] <= before for m in items)
        assert [m["timestamp"] for m in items] == sorted(
            (m["timestamp"] for m in items), reverse=True
        )


# export ---------------------------------------------------------------------------------


def test_export_writes_every_row_to_a_storage_url(http, shared):
    answer = http.get("vip-messages/export", params=WINDOW).json()
    assert answer["totalCount"] == 9  # the whole T+2 group, which paging by cursor cannot give
    assert re.fullmatch(rf"{shared.root_url}/_storage/[0-9a-f]+\.csv", answer["csvUrl"])
    download = httpx.get(answer["csvUrl"])  # no auth headers: a pre-signed URL
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    text = download.content.decode()
    assert text.startswith(
        "timestamp,date,conversationId,userName,kind,source,labels,customLabelIds,text\n"
        f"{T + 5},2026-06-01T12:00:00.005Z,c1,user c1,text,messenger,frustrated,,"
        '"He said ""no"", then left,\nangry"\n'
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["conversationId"], int(r["timestamp"]) - T) for r in rows] == NEWEST_FIRST
    by_key = {(r["conversationId"], int(r["timestamp"]) - T): r for r in rows}
    assert by_key["c2", 2]["labels"] == "frustrated;question"
    assert by_key["c4", 2]["customLabelIds"] == "cl_refund"


def test_export_applies_the_filters(http):
    answer = http.get("vip-messages/export", params={**WINDOW, "label": "cl_refund"}).json()
    assert answer["totalCount"] == 2
    rows = list(csv.DictReader(io.StringIO(httpx.get(answer["csvUrl"]).text)))
    assert [r["conversationId"] for r in rows] == ["c3", "c4"]


def test_unknown_storage_file_is_404(shared):
    assert httpx.get(f"{shared.root_url}/_storage/0000.csv").status_code == 404


# label-overview -------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", [None, "day", "week"])
def test_label_overview_is_the_reference_document(http, group_by):
    params = WINDOW | ({"groupBy": group_by} if group_by else {})
    answer = http.get("label-overview", params=params)
    assert answer.headers["content-type"] == "application/json"
    pair = [m for m in MESSAGES if (m["workspaceId"], m["mediumId"]) == (VIP, PAGE)]
    expected = compute_label_overview(
        pair,
        workspace_id=VIP,
        medium_id=PAGE,
        window=Window.parse("2026-06-01", "2026-06-02"),
        group_by=group_by or "day",
        custom_labels={"cl_refund": {"name": "Refund", "color": "#ff8800"}},
    )
    assert answer.content == render_label_overview(expected)
    document = answer.json()
    jsonschema.validate(document, label_overview_schema())
    assert document["totals"]["frustrated"] == {"count": 4, "uniqueConversations": 3}
    assert document["customLabels"] == {"cl_refund": {"name": "Refund", "color": "#ff8800"}}


# Faults ---------------------------------------------------------------------------------


def outcomes(base_url: str, count: int, retry_after: str = "7") -> list:
    """Status of ``count`` signed requests, "dropped" for a connection closed mid-answer."""
    seen = []
    with httpx.Client(base_url=base_url, auth=Signed(), timeout=10) as client:
        for _ in range(count):
            try:
                answer = client.get("organizations")
            except httpx.RemoteProtocolError:
                seen.append("dropped")
                continue
            seen.append(answer.status_code)
            if answer.status_code == 200:
                assert answer.json() == {"id": "org_1", "name": "Org One"}
            elif answer.status_code == 429:
                assert answer.headers["retry-after"] == retry_after
                assert answer.json() == {"message": "Too many requests"}
            else:
                assert set(answer.json()) == {"message"}
    return seen


def test_fail_rate_1_gives_every_failure_kind_reproducibly(emulator_for):
    first = emulator_for(dataset(), fail_rate=1.0, seed=3, retry_after_s=7)
    again = emulator_for(dataset(), fail_rate=1.0, seed=3, retry_after_s=7)
    seen = outcomes(first.base_url, 24)
    assert set(seen) == {429, 500, 503, "dropped"}
    assert outcomes(again.base_url, 24) == seen
    # Logged before the fault is drawn, so the log holds every failed request too.
    assert [entry["status"] for entry in first.control.requests()] == seen


def test_faults_switch_at_run_time_and_spare_storage(fresh):
    running, client = fresh
    csv_url = client.get("vip-messages/export", params=WINDOW).json()["csvUrl"]
    running.control.set_faults(fail_rate=1.0, seed=1)
    assert 200 not in outcomes(running.base_url, 5, retry_after="0")
    assert httpx.get(csv_url).status_code == 200  # the storage URL is not the API
    running.control.set_faults(fail_rate=0.0)
    assert client.get("workspaces").status_code == 200


def test_latency_is_added_to_vendor_requests(fresh):
    running, client = fresh
    running.control.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert client.get("organizations").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_failing_workspace_answers_404_to_data_pulls_only(fresh):
    running, client = fresh
    running.control.set_faults(failing_workspaces=[VIP])
    for path in DATA_PATHS:
        answer = client.get(path, params=WINDOW)
        assert (answer.status_code, answer.json()) == (404, {"message": "Workspace not found"})
    # Discovery still lists it, as when a workspace is deleted while a run is under way.
    assert client.get("channels", params={"workspaceId": VIP}).status_code == 200
    other = {**WINDOW, "workspaceId": VIP2, "mediumId": INSTA}
    assert client.get("vip-messages", params=other).status_code == 200


def test_unavailable_workspace_answers_503_to_every_request_naming_it(fresh):
    running, client = fresh
    running.control.set_faults(unavailable_workspaces=[VIP])
    for path in ("channels", *DATA_PATHS):
        assert client.get(path, params=WINDOW).status_code == 503
    assert client.get("workspaces").status_code == 200
    other = {**WINDOW, "workspaceId": VIP2, "mediumId": INSTA}
    assert client.get("vip-messages", params=other).status_code == 200


# Control surface ------------------------------------------------------------------------


def test_appended_messages_are_served_in_order(fresh):
    running, client = fresh
    added = [msg("c7", T + 6, ["praise"]), msg("c8", T + 6), msg("c7", T + 3, ["praise"])]
    assert running.control.append_messages(added) == 3
    page = client.get("vip-messages", params={**WINDOW, "limit": "4"}).json()
    assert keys(page["items"]) == [("c8", 6), ("c7", 6), ("c1", 5), ("c3", 4)]
    praise = client.get("vip-messages", params={**WINDOW, "label": "praise"}).json()
    assert keys(praise["items"]) == [("c7", 6), ("c7", 3)]


def test_bad_control_requests_are_400(fresh):
    running, _ = fresh
    for path, body in [
        ("/_control/messages", {"messages": [{"workspaceId": VIP, "mediumId": PAGE}]}),
        ("/_control/faults", {"failRate": 2}),
        ("/_control/faults", {"dropEverything": True}),
        ("/_control/clock", {}),
        ("/_control/labels-as-of", {}),
        ("/_control/labels-as-of", {"asOf": "tomorrow"}),
    ]:
        answer = httpx.post(running.root_url + path, json=body)
        assert answer.status_code == 400, path
        assert answer.json()["message"].startswith("bad control request")


def test_relabel_changes_what_every_endpoint_serves(fresh):
    running, client = fresh
    assert running.control.append_messages([msg("c2", T + 2, kind="attachment")]) == 1
    changed = running.control.relabel(
        workspace_id=VIP,
        medium_id=PAGE,
        conversation_id="c2",
        timestamp=T + 2,
        labels=["praise"],
        custom_label_ids=["cl_refund"],
    )
    assert changed == 2  # the text and the attachment sent in the same millisecond
    praise = client.get("vip-messages", params={**WINDOW, "label": "praise"}).json()["items"]
    assert [(i["labels"], i["customLabelIds"]) for i in praise] == [(["praise"], ["cl_refund"])] * 2
    frustrated = client.get("vip-messages", params={**WINDOW, "label": "frustrated"}).json()
    assert keys(frustrated["items"]) == [("c1", 5), ("c5", 2), ("c1", 1)]
    overview = client.get("label-overview", params=WINDOW).json()
    assert overview["totals"]["praise"] == {"count": 2, "uniqueConversations": 1}
    # The emulator's copy changed, never the messages it was started with.
    assert (MESSAGES[5]["conversationId"], MESSAGES[5]["labels"]) == (
        "c2",
        ["frustrated", "question"],
    )


def test_labels_are_served_once_the_labels_clock_reaches_their_arrival(fresh):
    running, client = fresh
    arrives = T + 86_400_000  # a day after the message: the AI labels asynchronously
    late = {**msg("c7", T + 6, ["urgent"], custom=["cl_refund"]), "labeledAt": arrives}
    assert running.control.append_messages([late]) == 1

    def served():
        newest = client.get("vip-messages", params={**WINDOW, "limit": 1}).json()["items"][0]
        urgent = client.get("vip-messages", params={**WINDOW, "label": "urgent"}).json()
        overview = client.get("label-overview", params=WINDOW).json()
        exported = client.get("vip-messages/export", params=WINDOW).json()
        rows = list(csv.DictReader(io.StringIO(httpx.get(exported["csvUrl"]).text)))
        return (
            (newest["conversationId"], newest["labels"], newest["customLabelIds"]),
            keys(urgent["items"]),
            overview["totals"].get("urgent"),
            overview["totals"]["cl_refund"]["count"],
            overview["activityTotals"]["userMessages"],
            (rows[0]["labels"], rows[0]["customLabelIds"]),
        )

    running.control.set_labels_as_of(arrives - 1)
    assert served() == (("c7", [], []), [], None, 2, 10, ("", ""))
    arrived = (
        ("c7", ["urgent"], ["cl_refund"]),
        [("c7", 6)],
        {"count": 1, "uniqueConversations": 1},
        3,
        10,
        ("urgent", "cl_refund"),
    )
    running.control.set_labels_as_of(arrives)
    assert served() == arrived
    running.control.set_labels_as_of(None)  # the default: every label, the dataset's end
    assert served() == arrived
    # Labels set at run time are there at once, whatever the clock says.
    running.control.set_labels_as_of(arrives - 1)
    running.control.relabel(
        workspace_id=VIP,
        medium_id=PAGE,
        conversation_id="c7",
        timestamp=T + 6,
        labels=["praise"],
        custom_label_ids=[],
    )
    newest = client.get("vip-messages", params={**WINDOW, "limit": 1}).json()["items"][0]
    assert (newest["labels"], list(newest)) == (["praise"], list(ITEM_FIELDS))


def test_clock_offset_moves_the_accepted_window(fresh):
    running, client = fresh
    running.control.set_clock_offset(120)
    stale = client.get("organizations")
    assert stale.status_code == 403 and "too old" in stale.json()["message"]
    ahead = httpx.get(f"{running.base_url}/organizations", headers=signed_headers(skew_s=120))
    assert ahead.status_code == 200
    running.control.set_clock_offset(-120)
    assert "in the future" in client.get("organizations").json()["message"]
    running.control.set_clock_offset(0)
    assert client.get("organizations").status_code == 200


def test_disconnected_channel_is_no_longer_the_workspaces(fresh):
    running, client = fresh
    assert running.control.disconnect_channel(VIP, PAGE) is True
    assert running.control.disconnect_channel(VIP, PAGE) is False
    assert client.get("channels", params={"workspaceId": VIP}).json() == []
    assert client.get("channels", params={"workspaceId": PLAIN}).json()[0]["id"] == PAGE
    answer = client.get("vip-messages", params=WINDOW)
    assert answer.json() == {"message": "Channel is not connected to the workspace"}


def test_request_log_records_vendor_requests_only(fresh):
    running, client = fresh
    client.get("organizations")
    running.control.clear_requests()
    assert running.control.requests() == []
    first = client.get("workspaces")
    client.get("label-overview", params={"workspaceId": VIP})
    export = client.get("vip-messages/export", params=WINDOW).json()
    httpx.get(export["csvUrl"])
    log = running.control.requests()
    assert log[:2] == [
        {
            "method": "GET",
            "path": "/v1/workspaces",
            "query": {},
            "xDate": first.request.headers["x-date"],
            "status": 200,
        },
        {
            "method": "GET",
            "path": "/v1/label-overview",
            "query": {"workspaceId": VIP},
            "xDate": log[1]["xDate"],
            "status": 422,
        },
    ]
    assert [entry["path"] for entry in log] == [
        "/v1/workspaces",
        "/v1/label-overview",
        "/v1/vip-messages/export",
    ]


# The emulator as its own process --------------------------------------------------------


def test_emulator_process_announces_serves_and_stops_cleanly(tmp_path):
    dataset().save(tmp_path)
    started = time.perf_counter()
    with EmulatorProcess(tmp_path) as process:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", process.root_url)
        headers = signed_headers()
        answer = httpx.get(f"{process.base_url}/organizations", headers=headers)
        assert answer.json() == {"id": "org_1", "name": "Org One"}
        assert process.control.requests()[0]["status"] == 200
        assert time.perf_counter() - started < 5
    assert process.process.returncode == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_one_line_and_exits_0_on_signal(tmp_path, stop):
    dataset().save(tmp_path)
    command = Path(sys.executable).with_name("dynamo-emulator")
    options = ["--port", "0", "--fail-rate", "0.5", "--retry-after", "3", "--seed", "1"]
    process = subprocess.Popen(
        [str(command), "serve", "--data", str(tmp_path), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        seen = outcomes(f"{match[1]}/v1", 16, retry_after="3")
        assert {200, "dropped"} <= set(seen)
    finally:
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
    # Nothing after the one line, and the deliberate drops leave no error in the log.
    assert (process.returncode, out, err) == (0, "", "")
