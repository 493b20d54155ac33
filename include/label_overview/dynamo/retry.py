"""The retry policy: which failures are worth another attempt, how long to wait, when to stop."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from label_overview.dynamo.errors import RetriesExhaustedError, describe_exception

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time.

    A 429's ``Retry-After`` (seconds) is honoured, capped at ``max_delay_s``. ``sleep``,
    ``random`` and ``monotonic`` are the policy's clock and dice, injectable for tests.
    """

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_total_s: float = 120.0
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if min(self.base_delay_s, self.max_delay_s, self.max_total_s) < 0:
            raise ValueError("retry delays and the total time must not be negative")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_delay_s)
            except ValueError:
                pass  # an HTTP-date or garbage: fall back to backoff
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return ceiling * self.random() if self.jitter else ceiling

    def allows(self, attempt: int, elapsed_s: float, next_delay_s: float) -> bool:
        """Whether another attempt fits in the attempt count and the total time."""
        return attempt < self.max_attempts and elapsed_s + next_delay_s <= self.max_total_s

    def run(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        """Call ``send`` until it answers something not worth retrying, within the bounds.

        ``send`` must build a new request on each call, so that each attempt is signed anew.

        Args:
            send: one attempt; returns the response or raises an httpx error.
            what: how log lines and errors name the request (never headers or secrets).

        Returns:
            The first response whose status is not retryable (success or a final error).

        Raises:
            RetriesExhaustedError: retryable failures went on past the attempts or the time.
            httpx.HTTPError: a failure that no retry can cure (e.g. an unsupported URL).
        """
        started = self.monotonic()
        attempt = 0
        while True:
            attempt += 1
            status, error, retry_after = None, None, None
            try:
                response = send()
            except httpx.HTTPError as raised:
                if not is_retryable_exception(raised):
                    raise
                error = raised
            else:
                if not is_retryable_status(response.status_code):
                    return response
                status = response.status_code
                if status == 429:
                    retry_after = response.headers.get("Retry-After")
            reason = f"HTTP {status}" if error is None else describe_exception(error)
            delay = self.delay(attempt, retry_after)
            elapsed = self.monotonic() - started
            if not self.allows(attempt, elapsed, delay):
                raise RetriesExhaustedError(
                    what, attempt, elapsed, reason, last_status=status, last_exception=error
                )
            log.warning(
                "%s: %s, retry %d of %d in %.2fs",
                what,
                reason,
                attempt,
                self.max_attempts - 1,
                delay,
            )
            self.sleep(delay)


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx; other statuses are an answer, not a hiccup."""
    return status == 429 or 500 <= status <= 599


def is_retryable_exception(error: Exception) -> bool:
    """Timeouts and transport failures (refused, reset, dropped mid-body) are worth a retry.

    A URL scheme httpx cannot speak, or a request httpx refuses to write, fails the same way
    every time, so those transport errors are not retried.
    """
    if isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(error, httpx.TimeoutException | httpx.TransportError)
