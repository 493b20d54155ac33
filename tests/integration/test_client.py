"""The client against the emulator over real loopback HTTP: auth, errors, retries, paging."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from collections import Counter

import httpx
import pytest

from dynamo_emulator.dataset import Dataset, item_of
from dynamo_emulator.reference import compute_label_overview
from dynamo_emulator.server import running_emulator
from label_overview.concurrency import map_bounded
from label_overview.dynamo.client import DynamoClient
from label_overview.dynamo.errors import (
    AuthenticationError,
    BusinessRuleError,
    DynamoError,
    NotFoundError,
    OrganizationInactiveError,
    ResponseFormatError,
    RetriesExhaustedError,
    ValidationError,
)
from label_overview.dynamo.retry import RetryPolicy
from label_overview.dynamo.signing import format_x_date, sign
from label_overview.overview import render_label_overview
from label_overview.settings import Secret
from label_overview.windows import Window, WindowError, day_start_ms

SECRET = "0f3c9e1d2b7a48c6a5e4f3d2c1b0a9f8e7d6c5b4"
VIP, STANDARD, PAGE, OTHER_PAGE = (
    "ws_vip",
    "ws_std",
    "FB_PAGE_100000000000001",
    "FB_PAGE_100000000000002",
)
DAY = dt.date(2026, 6, 10)
NOON = day_start_ms(DAY) + 43_200_000
FAST = RetryPolicy(base_delay_s=0.001, max_delay_s=0.01, max_attempts=12)
AUTH_HEADERS = {"x-api-key", "x-date", "x-signature"}


class RecordingTransport(httpx.HTTPTransport):
    """The real loopback transport, noting each request's path and headers as it goes out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, dict(request.headers)))
        return super().handle_request(request)


def item(conversation: str, timestamp: int, labels=(), kind="text") -> dict:
    return {
        "workspaceId": VIP,
        "mediumId": PAGE,
        "timestamp": timestamp,
        "date": "",
        "conversationId": conversation,
        "userName": "u",
        "kind": kind,
        "source": "messenger",
        "labels": list(labels),
        "customLabelIds": [],
        "text": "t",
    }


def messages_with_ties() -> list[dict]:
    """Groups sharing a millisecond, inside one conversation and across, some identical,
    one group (600) bigger than the largest page, spread over 40 days."""
    messages = []
    for day in range(40):
        base = day_start_ms(DAY - dt.timedelta(days=39 - day))
        messages += [
            item(f"c{n % 3}", base + 1000 * (n // 4), ["question"] * (n % 2)) for n in range(14)
        ]
    messages += [item("c1", NOON, ["urgent"]) for _ in range(7)]  # 7 identical messages
    messages += [item(f"c{n}", NOON - 1, kind="attachment") for n in range(5)]
    messages += [item("c9", NOON - 2, ["question"]) for _ in range(600)]
    return messages


def dataset(active: bool = True) -> Dataset:
    return Dataset(
        organization={"id": "org", "name": "Org", "active": active},
        api_keys=[{"key": "key-1", "secret": SECRET}],
        workspaces=[
            {
                "id": VIP,
                "name": "VIP",
                "type": "VIP",
                "vipIndicator": "",
                "vipIndicatorInProcess": False,
            },
            {
                "id": STANDARD,
                "name": "Std",
                "type": "STANDARD",
                "vipIndicator": "",
                "vipIndicatorInProcess": False,
            },
        ],
        channels=[
            {"id": PAGE, "type": "FB_PAGE", "name": "Page", "workspaceIds": [VIP, STANDARD]},
            {"id": OTHER_PAGE, "type": "FB_PAGE", "name": "Other", "workspaceIds": [STANDARD]},
        ],
        custom_labels=[],
        messages=messages_with_ties(),
    )


@pytest.fixture
def emulator():
    with running_emulator(dataset(), retry_after_s=0) as running:
        yield running


def client_for(emulator, **options) -> DynamoClient:
    options.setdefault("retry", FAST)
    return DynamoClient(emulator.base_url, "key-1", SECRET, **options)


def canonical(items) -> Counter:
    return Counter(json.dumps(i, sort_keys=True) for i in items)


def expected_items(window: Window) -> Counter:
    return canonical(item_of(m) for m in messages_with_ties() if window.contains_ms(m["timestamp"]))


def signed_headers(x_date: str, key="key-1", secret=SECRET) -> dict[str, str]:
    return {"x-api-key": key, "x-date": x_date, "x-signature": sign(secret, x_date)}


def now_plus(seconds: float) -> str:
    return format_x_date(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("make_headers", "message"),
    [
        (lambda: {}, "Missing x-api-key header"),
        (lambda: signed_headers(now_plus(0), key="nope"), "Unknown API key"),
        (
            lambda: {**signed_headers(now_plus(0)), "x-signature": sign("wrong", now_plus(0))},
            "Invalid signature",
        ),
        (lambda: signed_headers(now_plus(-61)), "too old"),
        (lambda: signed_headers(now_plus(6)), "in the future"),
    ],
    ids=["no-key", "unknown-key", "bad-signature", "stale-date", "future-date"],
)
def test_server_rejects_bad_authentication_with_403(emulator, make_headers, message):
    # Headers are made when the test runs: dates made at collection time would go stale.
    response = httpx.get(f"{emulator.base_url}/workspaces", headers=make_headers())
    assert response.status_code == 403
    assert message in response.json()["message"]


@pytest.mark.parametrize("offset", [-58, 4])
def test_server_accepts_dates_inside_its_window(emulator, offset):
    response = httpx.get(
        f"{emulator.base_url}/workspaces", headers=signed_headers(now_plus(offset))
    )
    assert response.status_code == 200


def test_every_endpoint(emulator):
    with DynamoClient(emulator.base_url + "/", "key-1", SECRET) as slash:
        assert slash.organization() == {"id": "org", "name": "Org"}  # the /v1 prefix is kept
    with client_for(emulator) as client:
        assert client.organization() == {"id": "org", "name": "Org"}
        assert [w["id"] for w in client.workspaces()] == [VIP, STANDARD]
        assert client.channels() == [
            {"id": PAGE, "type": "FB_PAGE", "name": "Page"},
            {"id": OTHER_PAGE, "type": "FB_PAGE", "name": "Other"},
        ]
        assert [c["id"] for c in client.channels(VIP)] == [PAGE]
        window = Window(DAY, DAY)
        exported = client.export_vip_messages(VIP, PAGE, window)
        assert canonical(exported) == expected_items(window)
        urgent = list(client.vip_messages(VIP, PAGE, window, label="urgent"))
        assert len(urgent) == 7
        attachments = list(client.vip_messages(VIP, PAGE, window, content_type="attachment"))
        assert len(attachments) == 5
        overview = client.label_overview(VIP, PAGE, window, "week")
        assert overview.document["totals"]["urgent"] == {"count": 7, "uniqueConversations": 1}


def test_export_csv_is_read_exactly_and_fetched_without_the_api_headers(emulator):
    # Text that CSV must quote, a ';' that is not a label separator, non-ASCII.
    tricky = item("c7", NOON + 9, ["question", "urgent"]) | {
        "text": 'a, "quoted"\nsecond line; é',
        "userName": "Zoë",
    }
    emulator.control.append_messages([tricky])
    transport = RecordingTransport()
    window = Window(DAY, DAY)
    with client_for(emulator, transport=transport) as client:
        exported = client.export_vip_messages(VIP, PAGE, window)
        paged = list(client.vip_messages(VIP, PAGE, window))
    assert canonical(exported) == canonical(paged)
    assert canonical(exported) == expected_items(window) + canonical([item_of(tricky)])
    storage = [headers for path, headers in transport.sent if path.startswith("/_storage/")]
    api = [headers for path, headers in transport.sent if path.startswith("/v1/")]
    # One CSV for the export, one for the 600-message millisecond that paging cannot cross.
    assert len(storage) == 2 and len(api) == len(transport.sent) - 2
    assert not any(AUTH_HEADERS & set(headers) for headers in storage)
    assert all(AUTH_HEADERS <= set(headers) for headers in api)


def test_label_overview_keeps_what_was_asked_and_the_exact_bytes(emulator):
    window = Window(DAY - dt.timedelta(days=6), DAY)
    with client_for(emulator) as client:
        response = client.label_overview(VIP, PAGE, window, "week")
        asked = len(emulator.control.requests())
        with pytest.raises(WindowError):
            client.label_overview(VIP, PAGE, Window(DAY - dt.timedelta(days=31), DAY))
    assert len(emulator.control.requests()) == asked  # refused before any request
    assert response.params == {
        "workspaceId": VIP,
        "mediumId": PAGE,
        "from": "2026-06-04",
        "to": "2026-06-10",
        "groupBy": "week",
    }
    expected = compute_label_overview(
        messages_with_ties(),
        workspace_id=VIP,
        medium_id=PAGE,
        window=window,
        group_by="week",
        custom_labels={},
    )
    assert response.document == expected
    assert response.body == render_label_overview(expected)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", response.fetched_at)
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.body = b""  # type: ignore[misc]


def test_error_shapes_are_typed_with_their_bodies(emulator):
    window = Window(DAY, DAY)
    with client_for(emulator) as client:
        with pytest.raises(ValidationError) as invalid:
            client._get_json(
                "label-overview",
                {"mediumId": PAGE, "from": "2026-6-1", "to": "2026-06-02", "groupBy": "month"},
            )
        assert invalid.value.status == 422
        assert [(e["path"], e["type"]) for e in invalid.value.entries] == [
            (["workspaceId"], "any.required"),
            (["from"], "date.format"),
            (["groupBy"], "any.only"),
        ]
        assert invalid.value.entries[0] == {
            "message": '"workspaceId" is required',
            "path": ["workspaceId"],
            "type": "any.required",
            "context": {"label": "workspaceId", "key": "workspaceId"},
        }
        with pytest.raises(NotFoundError, match="Workspace not found"):
            client.label_overview("ws_missing", PAGE, window)
        with pytest.raises(BusinessRuleError, match="not a VIP workspace"):
            client.label_overview(STANDARD, OTHER_PAGE, window)
        with pytest.raises(BusinessRuleError, match="not connected"):
            client.label_overview(VIP, OTHER_PAGE, window)
    with DynamoClient(emulator.base_url, "key-1", "not-the-secret", retry=FAST) as wrong:
        with pytest.raises(AuthenticationError) as denied:
            wrong.workspaces()
        assert denied.value.status == 403 and not denied.value.is_clock_skew
    assert str(denied.value) == "/workspaces answered 403: Invalid signature"
    assert str(invalid.value).count("\n") == 0


def test_inactive_organization_is_402():
    with running_emulator(dataset(active=False)) as emulator, client_for(emulator) as client:
        with pytest.raises(OrganizationInactiveError) as raised:
            client.workspaces()
    assert raised.value.status == 402
    assert raised.value.body == {"message": "Organization is inactive"}


def test_a_body_that_trickles_in_ends_at_the_request_deadline():
    # A server that answers at once, then sends its body a byte at a time: httpx's read
    # timeout (5 s) restarts with every byte and never fires.
    server = socket.create_server(("127.0.0.1", 0))
    sent = []

    def trickle() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(200):  # 10 s at most
                try:
                    connection.sendall(b" ")
                except OSError:
                    return
                sent.append(1)
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    policy = RetryPolicy(max_attempts=1)
    with DynamoClient(
        base_url, "key-1", SECRET, timeout_s=5, deadline_s=0.5, retry=policy
    ) as client:
        with pytest.raises(RetriesExhaustedError) as raised:
            client.workspaces()
    thread.join(timeout=15)
    server.close()
    assert str(raised.value).startswith("/workspaces: gave up after 1 attempts in ")
    assert str(raised.value).endswith(
        "(last: ReadTimeout: the response did not arrive whole within 0.5s"
        " (or the run's time bound passed))"
    )
    assert len(sent) < 100


def test_an_export_that_holds_fewer_messages_than_a_page_showed_fails(emulator):
    # The 600-message millisecond fills a whole page of 500; the export then answers, in
    # agreement with itself, that the millisecond holds none.
    emulator.control.set_faults(corruptions={"vip-messages/export": ["empty_export"]})
    with client_for(emulator, page_size=500) as client:
        with pytest.raises(ResponseFormatError) as raised:
            list(client.vip_messages(VIP, PAGE, Window(DAY, DAY)))
    assert str(raised.value) == f"the export holds 0 messages at {NOON - 2}, a page showed 500"


@pytest.mark.parametrize("page_size", [3, 100, 500])
def test_paging_with_millisecond_ties_returns_the_exact_multiset(emulator, page_size):
    window = Window(DAY - dt.timedelta(days=39), DAY)
    with client_for(emulator, page_size=page_size) as client:
        items = list(client.vip_messages(VIP, PAGE, window))
    assert canonical(items) == expected_items(window)
    assert len(items) == 40 * 14 + 7 + 5 + 600
    assert [i["timestamp"] for i in items] == sorted((i["timestamp"] for i in items), reverse=True)
    log = emulator.control.requests()
    exports = [r for r in log if r["path"].endswith("/export")]
    assert len(exports) == 1  # only the 600-message millisecond needs the export
    assert (exports[0]["query"]["from"], exports[0]["query"]["to"]) == ("2026-06-10", "2026-06-10")
    pages = [r["query"] for r in log if r["path"] == "/v1/vip-messages"]
    # 40 days in two chunks, newest first, each starting without a cursor.
    chunks = list(dict.fromkeys((q["from"], q["to"]) for q in pages))
    assert chunks == [("2026-06-02", "2026-06-10"), ("2026-05-02", "2026-06-01")]
    firsts = [q for n, q in enumerate(pages) if n == 0 or q["from"] != pages[n - 1]["from"]]
    assert [("before" in q) for q in firsts] == [False, False]


def test_faults_are_retried_each_attempt_freshly_signed(emulator):
    window = Window(DAY - dt.timedelta(days=3), DAY)
    emulator.control.set_faults(fail_rate=0.3, seed=5)
    calls = iter(range(1_000_000))

    def ticking_clock() -> dt.datetime:
        # Retries here come within a millisecond: tick the clock so each signing is visible.
        return dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=next(calls))

    with client_for(emulator, page_size=5, clock=ticking_clock) as client:
        items = list(client.vip_messages(VIP, PAGE, window))
        overview = client.label_overview(VIP, PAGE, window)
    emulator.control.set_faults(fail_rate=0.0)
    log = emulator.control.requests()  # before the clean client below adds its own requests
    assert canonical(items) == expected_items(window)
    with client_for(emulator) as clean:
        assert overview.body == clean.label_overview(VIP, PAGE, window).body
    statuses = Counter(str(r["status"]) for r in log)
    assert {"429", "500", "503", "dropped"} <= set(statuses)
    assert all(r["xDate"] for r in log)
    # A retry is the same request again: each one went out with its own, later x-date.
    by_request = {}
    for r in log:
        by_request.setdefault((r["path"], json.dumps(r["query"], sort_keys=True)), []).append(
            r["xDate"]
        )
    retried = [dates for dates in by_request.values() if len(dates) > 1]
    assert retried
    for dates in retried:
        assert len(set(dates)) == len(dates) and dates == sorted(dates)


def test_a_workspace_that_keeps_failing_gives_up_in_bounded_time(emulator):
    emulator.control.set_faults(unavailable_workspaces=[VIP])
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=4, max_total_s=5)
    started = time.monotonic()
    with (
        client_for(emulator, retry=policy) as client,
        pytest.raises(RetriesExhaustedError) as raised,
    ):
        client.label_overview(VIP, PAGE, Window(DAY, DAY))
    assert (raised.value.attempts, raised.value.last_status) == (4, 503)
    assert "HTTP 503" in str(raised.value)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("skew", "accepted"), [(4, True), (-50, True), (10, False), (-70, False)])
def test_clock_skew(emulator, skew, accepted):
    clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew)  # noqa: E731
    with client_for(emulator, clock=clock) as client:
        if accepted:
            assert client.organization()["id"] == "org"
        else:
            with pytest.raises(AuthenticationError, match="clock skew") as raised:
                client.organization()
            assert raised.value.is_clock_skew


@pytest.mark.parametrize(
    ("server_offset", "accepted"), [(-4, True), (50, True), (-10, False), (70, False)]
)
def test_server_clock_skew(emulator, server_offset, accepted):
    emulator.control.set_clock_offset(server_offset)
    with client_for(emulator) as client:
        if accepted:
            assert client.organization()["id"] == "org"
        else:
            with pytest.raises(AuthenticationError, match="clock skew"):
                client.organization()


@pytest.mark.parametrize(
    ("endpoint", "corruption", "message"),
    [
        ("vip-messages", "malformed_json", "/vip-messages answered malformed or truncated JSON"),
        ("vip-messages", "truncated", "/vip-messages answered malformed or truncated JSON"),
        ("vip-messages", "missing_field", "item 0 has no conversationId"),
        ("vip-messages", "wrong_type", "item 0 has no integer timestamp"),
        ("vip-messages", "outside_window", "item 0 is outside the requested window"),
        ("vip-messages", "duplicate_page", "item 0 is not before the cursor"),
        ("label-overview", "malformed_json", "/label-overview answered malformed or truncated"),
    ],
)
def test_corrupt_answers_are_a_clear_error(emulator, endpoint, corruption, message):
    emulator.control.set_faults(corruptions={endpoint: [corruption]})
    with client_for(emulator, page_size=3) as client:
        with pytest.raises(ResponseFormatError, match=re.escape(message)) as raised:
            list(client.vip_messages(VIP, PAGE, Window(DAY, DAY)))
            client.label_overview(VIP, PAGE, Window(DAY, DAY))
    assert "\n" not in str(raised.value)


def test_malformed_pages_are_a_clear_error(emulator):
    emulator.control.append_messages([{**item("c1", NOON + 5), "conversationId": None}])
    with (
        client_for(emulator) as client,
        pytest.raises(ResponseFormatError, match="no conversationId"),
    ):
        list(client.vip_messages(VIP, PAGE, Window(DAY, DAY)))


def test_the_secret_never_shows(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    emulator.control.set_faults(fail_rate=0.5, seed=3, unavailable_workspaces=["ws_down"])
    window = Window(DAY, DAY)
    give_up_fast = RetryPolicy(base_delay_s=0.001, max_delay_s=0.01, max_attempts=3)
    with (
        client_for(emulator) as client,
        client_for(emulator, retry=give_up_fast) as impatient,
        DynamoClient(emulator.base_url, "key-1", Secret("wrong-" + SECRET), retry=FAST) as wrong,
    ):
        list(client.vip_messages(VIP, PAGE, window))
        raised = []
        for call in (
            lambda: client.label_overview("ws_missing", PAGE, window),
            lambda: client._get_json("label-overview", {"groupBy": "month"}),
            lambda: impatient.label_overview("ws_down", PAGE, window),
            lambda: wrong.workspaces(),
        ):
            with pytest.raises(DynamoError) as error:
                call()
            raised.append(error.value)
        shown = repr(client) + repr(client._http.auth) + repr(wrong) + repr(wrong._http.auth)
    assert [type(e) for e in raised] == [
        NotFoundError,
        ValidationError,
        RetriesExhaustedError,
        AuthenticationError,
    ]
    messages = [repr(e) + str(e) for e in raised]
    assert all("\n" not in str(e) for e in raised)
    retries = [r for r in caplog.records if r.levelno == logging.WARNING and "retry" in r.message]
    assert retries  # the log under test did record a faulty run
    everything = shown + "".join(messages) + caplog.text
    assert SECRET not in everything
    assert not re.search(r"[0-9a-f]{64}", everything)  # no signature either


def test_map_bounded_caps_concurrency_and_keeps_going():
    running, peak, lock = 0, 0, threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.1)  # long enough that all four workers overlap on a busy machine
        with lock:
            running -= 1
        if n == 3:
            raise ValueError("pair 3 failed")
        return n * 10

    outcomes = map_bounded(work, range(12), max_workers=4)
    assert peak == 4
    assert [o.value for o in outcomes] == [0, 10, 20, None, 40, 50, 60, 70, 80, 90, 100, 110]
    assert str(outcomes[3].error) == "pair 3 failed"
