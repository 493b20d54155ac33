"""The retry policy's waits and bounds."""

from __future__ import annotations

import httpx

from label_overview.dynamo.retry import RetryPolicy, is_retryable_exception, is_retryable_status


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(base_delay_s=0.5, random=lambda: 0.25)
    assert jittered.delay(3) == 0.5


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


def test_what_is_retryable():
    assert [
        s for s in (200, 400, 402, 403, 404, 422, 429, 500, 502, 503) if is_retryable_status(s)
    ] == [
        429,
        500,
        502,
        503,
    ]
    request = httpx.Request("GET", "http://x")
    assert is_retryable_exception(httpx.ReadTimeout("slow", request=request))
    assert is_retryable_exception(httpx.RemoteProtocolError("dropped", request=request))
    assert is_retryable_exception(httpx.ConnectError("refused", request=request))
    assert not is_retryable_exception(ValueError("no"))
