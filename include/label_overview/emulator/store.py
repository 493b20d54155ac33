"""The emulator's data: a dataset indexed for newest-first paging, changeable at run time."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from label_overview.dataset import Dataset


class MessageStore:
    """Messages per (workspace, channel), kept sorted by timestamp for O(log n) page cuts.

    Ties keep dataset order, so a page is stable between calls; clients must not rely on it.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.lock = threading.RLock()
        self._pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._stamps: dict[tuple[str, str], list[int]] = {}
        for message in dataset.messages:
            self._pairs[message["workspaceId"], message["mediumId"]].append(message)
        for key in self._pairs:
            self._reindex(key)

    def _reindex(self, key: tuple[str, str]) -> None:
        self._pairs[key].sort(key=lambda m: m["timestamp"])
        self._stamps[key] = [m["timestamp"] for m in self._pairs[key]]

    def newest_first(
        self, workspace_id: str, medium_id: str, start_ms: int, end_ms: int
    ) -> Iterator[dict[str, Any]]:
        """Messages with ``start_ms <= timestamp <= end_ms``, newest first."""
        key = (workspace_id, medium_id)
        messages = self._pairs.get(key, [])
        stamps = self._stamps.get(key, [])
        low = bisect.bisect_left(stamps, start_ms)
        high = bisect.bisect_right(stamps, end_ms)
        for index in range(high - 1, low - 1, -1):
            yield messages[index]

    def append(self, messages: list[Mapping[str, Any]]) -> int:
        touched = set()
        with self.lock:
            for message in messages:
                key = (message["workspaceId"], message["mediumId"])
                self._pairs[key].append(dict(message))
                touched.add(key)
            for key in touched:
                self._reindex(key)
        return len(messages)

    def relabel(
        self,
        workspace_id: str,
        medium_id: str,
        conversation_id: str,
        timestamp: int,
        labels: list[str],
        custom_label_ids: list[str],
    ) -> int:
        """Set the labels of every message of a conversation at one millisecond."""
        updated = 0
        with self.lock:
            for message in self._pairs.get((workspace_id, medium_id), []):
                if (
                    message["conversationId"] == conversation_id
                    and message["timestamp"] == timestamp
                ):
                    message["labels"] = list(labels)
                    message["customLabelIds"] = list(custom_label_ids)
                    updated += 1
        return updated

    def disconnect(self, workspace_id: str, medium_id: str) -> bool:
        with self.lock:
            for channel in self.dataset.channels:
                if channel["id"] == medium_id and workspace_id in channel.get("workspaceIds", ()):
                    channel["workspaceIds"] = [
                        w for w in channel["workspaceIds"] if w != workspace_id
                    ]
                    return True
        return False

    def workspace(self, workspace_id: str) -> dict[str, Any] | None:
        return next((w for w in self.dataset.workspaces if w["id"] == workspace_id), None)

    def channel(self, medium_id: str) -> dict[str, Any] | None:
        return next((c for c in self.dataset.channels if c["id"] == medium_id), None)

    def secret_of(self, key: str) -> str | None:
        return next((k["secret"] for k in self.dataset.api_keys if k["key"] == key), None)
