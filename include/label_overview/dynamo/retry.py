"""The retry policy: which failures are worth another attempt, and how long to wait."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time.

    A 429's ``Retry-After`` (seconds) is honoured, capped at ``max_delay_s``.
    """

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_total_s: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_delay_s)
            except ValueError:
                pass  # an HTTP-date or garbage: fall back to backoff
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return ceiling * self.random()

    def allows(self, attempt: int, elapsed_s: float, next_delay_s: float) -> bool:
        """Whether another attempt fits in the attempt count and the total time."""
        return attempt < self.max_attempts and elapsed_s + next_delay_s <= self.max_total_s


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def is_retryable_exception(error: Exception) -> bool:
    """Timeouts and transport failures (refused, reset, dropped mid-body) are worth a retry."""
    return isinstance(error, httpx.TimeoutException | httpx.TransportError)
