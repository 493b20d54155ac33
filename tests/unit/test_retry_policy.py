"""The retry policy: its waits and bounds, and its loop driven by an injected sleep and clock."""

from __future__ import annotations

import logging

import httpx
import pytest

from label_overview.dynamo.errors import RetriesExhaustedError
from label_overview.dynamo.retry import RetryPolicy, is_retryable_exception, is_retryable_status

REQUEST = httpx.Request("GET", "http://api.example/v1/workspaces")


class FakeTime:
    """A monotonic clock that only the injected sleep moves, recording each wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy_on(fake: FakeTime, **options) -> RetryPolicy:
    return RetryPolicy(sleep=fake.sleep, monotonic=lambda: fake.now, random=lambda: 1.0, **options)


def answers(*outcomes):
    """A ``send`` that answers the given statuses (or raises the given errors) in turn."""
    pending = list(outcomes)
    calls = []

    def send() -> httpx.Response:
        calls.append(len(calls) + 1)
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        status, headers = outcome if isinstance(outcome, tuple) else (outcome, {})
        return httpx.Response(status, headers=headers, json={"message": "m"}, request=REQUEST)

    return send, calls


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(base_delay_s=0.5, random=lambda: 0.25)
    assert jittered.delay(3) == 0.5
    steady = RetryPolicy(base_delay_s=0.5, jitter=False, random=lambda: 0.0)
    assert steady.delay(3) == 2.0


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(max_delay_s=10.0, random=lambda: 1.0)
    assert policy.delay(1, retry_after="4") == 4.0
    assert policy.delay(1, retry_after="120") == 10.0
    assert policy.delay(1, retry_after="Wed, 21 Oct 2026 07:28:00 GMT") == 0.5


def test_attempts_and_total_time_are_bounded():
    policy = RetryPolicy(max_attempts=3, max_total_s=10.0)
    assert policy.allows(1, elapsed_s=0.0, next_delay_s=1.0)
    assert policy.allows(2, elapsed_s=0.0, next_delay_s=1.0)
    assert not policy.allows(3, elapsed_s=0.0, next_delay_s=1.0)
    assert not policy.allows(1, elapsed_s=9.5, next_delay_s=1.0)


def test_defaults():
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay_s, policy.max_delay_s, policy.max_total_s) == (
        6,
        0.5,
        30.0,
        120.0,
    )
    assert policy.jitter
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_what_is_retryable():
    statuses = (200, 301, 400, 402, 403, 404, 422, 429, 500, 502, 503, 504, 599)
    assert [s for s in statuses if is_retryable_status(s)] == [429, 500, 502, 503, 504, 599]
    assert is_retryable_exception(httpx.ReadTimeout("slow", request=REQUEST))
    assert is_retryable_exception(httpx.ConnectTimeout("slow", request=REQUEST))
    assert is_retryable_exception(httpx.RemoteProtocolError("dropped", request=REQUEST))
    assert is_retryable_exception(httpx.ReadError("reset", request=REQUEST))
    assert is_retryable_exception(httpx.ConnectError("refused", request=REQUEST))
    assert not is_retryable_exception(httpx.UnsupportedProtocol("ftp://", request=REQUEST))
    assert not is_retryable_exception(ValueError("no"))


def test_run_retries_until_an_answer_waiting_as_told(caplog):
    fake = FakeTime()
    send, calls = answers(
        (429, {"Retry-After": "7"}),
        503,
        httpx.RemoteProtocolError("peer closed connection", request=REQUEST),
        500,
        200,
    )
    caplog.set_level(logging.WARNING, logger="label_overview.dynamo.retry")
    response = policy_on(fake, base_delay_s=0.5).run(send, "/workspaces")
    assert response.status_code == 200
    assert calls == [1, 2, 3, 4, 5]
    # Retry-After 7 s first, then backoff for attempts 2, 3 and 4 (random() == 1: the ceiling).
    assert fake.sleeps == [7.0, 1.0, 2.0, 4.0]
    assert [r.getMessage() for r in caplog.records] == [
        "/workspaces: HTTP 429, retry 1 of 5 in 7.00s",
        "/workspaces: HTTP 503, retry 2 of 5 in 1.00s",
        "/workspaces: RemoteProtocolError: peer closed connection, retry 3 of 5 in 2.00s",
        "/workspaces: HTTP 500, retry 4 of 5 in 4.00s",
    ]
    assert {r.levelname for r in caplog.records} == {"WARNING"}


def test_run_hands_back_final_answers_at_once():
    for status in (200, 400, 402, 403, 404, 422):
        fake = FakeTime()
        send, calls = answers(status)
        assert policy_on(fake).run(send, "/x").status_code == status
        assert calls == [1] and fake.sleeps == []


def test_run_gives_up_after_max_attempts():
    fake = FakeTime()
    send, calls = answers(*[503] * 10)
    with pytest.raises(RetriesExhaustedError) as raised:
        policy_on(fake, max_attempts=4, base_delay_s=0.1).run(send, "/label-overview")
    assert calls == [1, 2, 3, 4]
    assert fake.sleeps == [0.1, 0.2, 0.4]
    error = raised.value
    assert (error.attempts, error.last_status, error.last_exception) == (4, 503, None)
    assert str(error) == "/label-overview: gave up after 4 attempts in 0.7s (last: HTTP 503)"


def test_run_gives_up_when_the_next_wait_would_pass_the_total_time():
    fake = FakeTime()
    timeout = httpx.ReadTimeout("timed out", request=REQUEST)
    send, calls = answers(*[timeout] * 20)
    with pytest.raises(RetriesExhaustedError) as raised:
        policy_on(fake, max_attempts=20, base_delay_s=1.0, max_total_s=10.0).run(send, "/x")
    # Waits 1, 2 and 4 fit in 10 s; the fourth wait (8 s, at 7 s elapsed) would not.
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert calls == [1, 2, 3, 4]
    assert raised.value.last_exception is timeout
    assert raised.value.last_status is None
    assert raised.value.elapsed_s == 7.0


def test_run_does_not_retry_what_cannot_heal():
    fake = FakeTime()
    send, calls = answers(httpx.UnsupportedProtocol("no ftp", request=REQUEST))
    with pytest.raises(httpx.UnsupportedProtocol):
        policy_on(fake).run(send, "/x")
    assert calls == [1] and fake.sleeps == []
