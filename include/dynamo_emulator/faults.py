"""Fault injection: throttling, server errors, dropped connections, latency and bad bodies.

Everything here is what a real deployment does wrong now and then; tests switch it on through
the control surface to prove that clients and pipelines survive it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response

FAILURE_KINDS = ("429", "500", "503", "drop")
CORRUPTIONS = (
    "malformed_json",
    "truncated",
    "missing_field",
    "wrong_type",
    "outside_window",
    "duplicate_page",
    "short_page",
    "overfull_page",
)
# The export's corruption: an answer that agrees with itself (totalCount 0, a CSV of no rows)
# but not with the pages.
EXPORT_CORRUPTIONS = ("empty_export",)
# Listings' corruptions (/workspaces, /channels): the list wrapped in an object, or its first
# row without an id.
LISTING_CORRUPTIONS = ("not_a_list", "no_id")
# Control-surface names -> (attribute, how to read the JSON value).
_SETTINGS = {
    "failRate": ("fail_rate", float),
    "latencyMs": ("latency_ms", int),
    "retryAfterS": ("retry_after_s", int),
    "failingWorkspaces": ("failing_workspaces", set),
    "failingChannels": ("failing_channels", set),
    "unavailableWorkspaces": ("unavailable_workspaces", set),
    "seed": ("seed", int),
    "corruptions": ("corruptions", dict),
}


@dataclass
class Faults:
    """What the emulator does wrong, changeable at run time through the control surface.

    ``fail_rate`` of vendor requests fail, evenly among 429 (with Retry-After), 500, 503 and a
    connection dropped mid-response, drawn from ``random.Random(seed)`` so a run repeats.
    Data pulls (vip-messages, export, label-overview) of ``failing_workspaces`` answer 404
    while discovery still lists them, as when a workspace is deleted mid-run, and so do the
    data pulls of ``failing_channels`` ("workspaceId/mediumId"); every request naming one of
    ``unavailable_workspaces`` answers 503. ``corruptions`` queues bad bodies
    for an endpoint's next 200 answers: ``{"vip-messages": ["wrong_type", ...]}`` ("ok" lets
    one answer through).
    """

    fail_rate: float = 0.0
    latency_ms: int = 0
    retry_after_s: int = 1
    seed: int = 0
    failing_workspaces: set[str] = field(default_factory=set)
    failing_channels: set[str] = field(default_factory=set)
    unavailable_workspaces: set[str] = field(default_factory=set)
    clock_offset_s: float = 0.0
    corruptions: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._check()
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def _check(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"failRate must lie in [0, 1], got {self.fail_rate}")
        if self.latency_ms < 0 or self.retry_after_s < 0:
            raise ValueError("latencyMs and retryAfterS must not be negative")
        for endpoint, kinds in self.corruptions.items():
            unknown = set(kinds) - {*CORRUPTIONS, *EXPORT_CORRUPTIONS, *LISTING_CORRUPTIONS, "ok"}
            if unknown:
                raise ValueError(f"unknown corruption(s) for {endpoint}: {sorted(unknown)}")

    def draw(self) -> str | None:
        """The injected failure for one request: "429", "500", "503", "drop", or None."""
        with self._lock:
            if self.fail_rate <= 0 or self._random.random() >= self.fail_rate:
                return None
            return self._random.choice(FAILURE_KINDS)

    def next_corruption(self, endpoint: str, *, has_cursor: bool) -> str | None:
        """The corruption for this answer, if one is queued (a duplicate page needs a cursor)."""
        with self._lock:
            queue = self.corruptions.get(endpoint)
            if not queue or (queue[0] == "duplicate_page" and not has_cursor):
                return None
            kind = queue.pop(0)
            return None if kind == "ok" else kind

    def update(self, changes: dict[str, Any]) -> None:
        """Apply control-surface settings (camelCase names); a new seed restarts the draws.

        Raises:
            ValueError: on an unknown setting or a value out of range; nothing changes then.
        """
        unknown = set(changes) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {sorted(unknown)}")
        with self._lock:
            before = {attribute: getattr(self, attribute) for attribute, _ in _SETTINGS.values()}
            try:
                for key, value in changes.items():
                    attribute, read = _SETTINGS[key]
                    if read is set and not isinstance(value, list):
                        raise TypeError(f"{key} must be a list of ids")
                    setattr(self, attribute, read(value))
                self._check()
            except (TypeError, ValueError):
                for attribute, value in before.items():
                    setattr(self, attribute, value)
                raise
            if "seed" in changes:
                self._random = random.Random(self.seed)


def throttled(retry_after_s: int) -> Response:
    """The 429 a throttling gateway answers, with the seconds to wait in Retry-After."""
    return JSONResponse(
        {"message": "Too many requests"},
        status_code=429,
        headers={"Retry-After": str(retry_after_s)},
    )


class DroppedConnection:
    """A response that promises more bytes than it sends, then ends: a dropped connection.

    The server closes the connection when the app returns with the body incomplete, so the
    client sees the peer hang up mid-response.
    """

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"4096"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"items": [', "more_body": True})


class _HideDeliberateDrops(logging.Filter):
    """Drops uvicorn's error line for the connections this module drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


def quiet_deliberate_drops() -> None:
    """Keep uvicorn's log free of the injected drops (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDeliberateDrops) for f in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


def corrupt(body: bytes, kind: str, before: str | None) -> Response:
    """A 200 answer spoiled the way a broken upstream or proxy spoils one."""
    if kind == "malformed_json":
        return Response(b"{items: [oops", media_type="application/json")
    if kind == "truncated":
        return Response(body[: len(body) // 2], media_type="application/json")
    if kind == "not_a_list":
        return JSONResponse({"data": json.loads(body)})
    if kind == "no_id":
        rows = json.loads(body)
        rows[0].pop("id", None)
        return JSONResponse(rows)
    page = json.loads(body)
    items = page.get("items") or [{}]
    if kind == "missing_field":
        items[0].pop("conversationId", None)
    elif kind == "wrong_type":
        items[0]["timestamp"] = str(items[0].get("timestamp"))
    elif kind == "outside_window":
        items[0]["timestamp"] = 0
    elif kind == "duplicate_page" and before is not None:
        # The page before this one again, as if the cursor had been ignored.
        items[0]["timestamp"] = int(before)
    elif kind == "short_page":
        # Half the items lost on the way; the count still says all.
        del items[max(1, len(items) // 2) :]
    elif kind == "overfull_page":
        # One item more than asked for, repeating the last.
        items.append(dict(items[-1]))
        page["returned"] = len(items)
    page["items"] = items
    return JSONResponse(page)
