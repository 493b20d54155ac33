"""Fault injection: throttling, server errors, dropped connections and latency, on demand."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the emulator does wrong, changeable at run time through the control surface.

    ``fail_rate`` of vendor requests fail, evenly among 429 (with Retry-After), 500, 503 and a
    connection dropped mid-response; data pulls (vip-messages, export, label-overview) of
    ``failing_workspaces`` answer 404, and every request of ``unavailable_workspaces`` 503.
    """

    fail_rate: float = 0.0
    latency_ms: int = 0
    retry_after_s: int = 1
    seed: int = 0
    failing_workspaces: set[str] = field(default_factory=set)
    unavailable_workspaces: set[str] = field(default_factory=set)
    clock_offset_s: float = 0.0
    # Bad bodies for the next 200 answers of an endpoint: {"vip-messages": ["wrong_type", ...]}.
    corruptions: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        """The injected failure for one request: "429", "500", "503", "drop", or None."""
        with self._lock:
            if self.fail_rate <= 0 or self._random.random() >= self.fail_rate:
                return None
            return self._random.choice(("429", "500", "503", "drop"))

    def next_corruption(self, endpoint: str, *, has_cursor: bool) -> str | None:
        """The corruption for this answer, if one is queued (a duplicate page needs a cursor)."""
        with self._lock:
            queue = self.corruptions.get(endpoint)
            if not queue or (queue[0] == "duplicate_page" and not has_cursor):
                return None
            return queue.pop(0)

    def update(self, changes: dict) -> None:
        names = {
            "failRate": ("fail_rate", float),
            "latencyMs": ("latency_ms", int),
            "retryAfterS": ("retry_after_s", int),
            "failingWorkspaces": ("failing_workspaces", set),
            "unavailableWorkspaces": ("unavailable_workspaces", set),
            "seed": ("seed", int),
            "corruptions": ("corruptions", dict),
        }
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown fault setting {key!r}")
            attribute, cast = names[key]
            setattr(self, attribute, cast(value))
        if "seed" in changes:
            self._random = random.Random(self.seed)
