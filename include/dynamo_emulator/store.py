"""The emulator's data: a dataset indexed for newest-first paging, changeable at run time.

Messages live per (workspace, channel) in a timeline sorted by timestamp, so a page is two
bisections and ``limit`` steps, whatever the dataset's size. A filtered query (label,
content type) uses a view of the timeline built on first use and dropped when the timeline
changes, so paging through a filter costs one scan, not one per page.

Labels can arrive after the message (the vendor's AI labels asynchronously): a dataset message
with ``labeledAt`` (epoch ms) is served without labels while the store's labels clock
(``labels_as_of_ms``) is set and earlier than that. Unset, the clock shows every label: the
world as the dataset ends.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dynamo_emulator.dataset import Dataset

Message = Mapping[str, Any]
Filter = tuple[str | None, str | None]  # (label, contentType)


def _matches(message: Message, label: str | None, content_type: str | None) -> bool:
    if content_type is not None and message.get("kind") != content_type:
        return False
    if label is None:
        return True
    return label in (message.get("labels") or ()) or label in (message.get("customLabelIds") or ())


@dataclass
class _Timeline:
    """One pair's messages, oldest first; ties keep the order they arrived in."""

    messages: list[Message] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    views: dict[Filter, tuple[list[Message], list[int]]] = field(default_factory=dict)

    def reindex(self) -> None:
        self.messages.sort(key=lambda m: m["timestamp"])  # stable: ties keep arrival order
        self.stamps = [m["timestamp"] for m in self.messages]
        self.views.clear()

    def view(
        self, label: str | None, content_type: str | None, served: Callable[[Message], Message]
    ):
        if label is None and content_type is None:
            return self.messages, self.stamps
        key = (label, content_type)
        if key not in self.views:
            chosen = [m for m in self.messages if _matches(served(m), label, content_type)]
            self.views[key] = (chosen, [m["timestamp"] for m in chosen])
        return self.views[key]


@dataclass(frozen=True)
class Query:
    """Which messages of a pair: ``start_ms <= timestamp <= end_ms`` and the filters."""

    workspace_id: str
    medium_id: str
    start_ms: int
    end_ms: int
    label: str | None = None
    content_type: str | None = None


class MessageStore:
    """The served organization: metadata by id and messages per (workspace, channel).

    Run-time changes never alter the caller's Dataset: metadata is copied, and a message is
    never changed in place (relabelling replaces it), so messages need no copy.
    Every read and write takes ``lock``: routes run in worker threads.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.lock = threading.RLock()
        self.organization = copy.deepcopy(dataset.organization)
        self.workspaces = copy.deepcopy(dataset.workspaces)
        self.channels = copy.deepcopy(dataset.channels)
        self._custom_labels = copy.deepcopy(dataset.custom_labels)
        self._secrets = {k["key"]: k["secret"] for k in dataset.api_keys}
        self._timelines: dict[tuple[str, str], _Timeline] = {}
        self.labels_as_of_ms: int | None = None
        self._add(dataset.messages)

    def set_labels_as_of(self, epoch_ms: int | None) -> None:
        """Serve the labels that had arrived by ``epoch_ms`` (None: every label)."""
        with self.lock:
            self.labels_as_of_ms = epoch_ms
            for timeline in self._timelines.values():
                timeline.views.clear()

    def _served(self, message: Message) -> Message:
        """The message as served now: unlabeled while its labels have not arrived yet."""
        arrives = message.get("labeledAt")
        if self.labels_as_of_ms is None or arrives is None or arrives <= self.labels_as_of_ms:
            return message
        return {**message, "labels": [], "customLabelIds": []}

    def _add(self, messages: Iterable[Mapping[str, Any]]) -> int:
        touched, count = set(), 0
        for message in messages:
            key = (message["workspaceId"], message["mediumId"])
            self._timelines.setdefault(key, _Timeline()).messages.append(message)
            touched.add(key)
            count += 1
        for key in touched:
            self._timelines[key].reindex()
        return count

    def page(self, query: Query, limit: int) -> tuple[list[Message], bool]:
        """The newest ``limit`` matching messages, newest first, and whether more match."""
        with self.lock:
            messages, low, high = self._range(query)
            first = max(low, high - limit)
            return [self._served(m) for m in messages[first:high][::-1]], first > low

    def select(self, query: Query) -> list[Message]:
        """Every matching message, newest first."""
        with self.lock:
            messages, low, high = self._range(query)
            return [self._served(m) for m in messages[low:high][::-1]]

    def _range(self, query: Query) -> tuple[list[Message], int, int]:
        timeline = self._timelines.get((query.workspace_id, query.medium_id))
        if timeline is None:
            return [], 0, 0
        messages, stamps = timeline.view(query.label, query.content_type, self._served)
        low = bisect.bisect_left(stamps, query.start_ms)
        high = bisect.bisect_right(stamps, query.end_ms)
        return messages, low, high

    def append(self, messages: list[Mapping[str, Any]]) -> int:
        """Add dataset messages (each needs workspaceId, mediumId and an integer timestamp).

        Raises:
            ValueError: when a message lacks one of those; nothing is added then.
        """
        for index, message in enumerate(messages):
            if not isinstance(message, Mapping) or not all(
                isinstance(message.get(name), str) for name in ("workspaceId", "mediumId")
            ):
                raise ValueError(f"message {index} needs string workspaceId and mediumId")
            if type(message.get("timestamp")) is not int:
                raise ValueError(f"message {index} needs an integer timestamp")
        with self.lock:
            return self._add(messages)

    def relabel(
        self,
        workspace_id: str,
        medium_id: str,
        conversation_id: str,
        timestamp: int,
        labels: list[str],
        custom_label_ids: list[str],
    ) -> int:
        """Set the labels of every message of a conversation at one millisecond; how many.

        The new labels are served at once, whatever the labels clock says.
        """
        with self.lock:
            timeline = self._timelines.get((workspace_id, medium_id))
            if timeline is None:
                return 0
            low = bisect.bisect_left(timeline.stamps, timestamp)
            high = bisect.bisect_right(timeline.stamps, timestamp)
            updated = 0
            for index in range(low, high):
                message = timeline.messages[index]
                if message.get("conversationId") == conversation_id:
                    timeline.messages[index] = {
                        **{k: v for k, v in message.items() if k != "labeledAt"},
                        "labels": list(labels),
                        "customLabelIds": list(custom_label_ids),
                    }
                    updated += 1
            if updated:
                timeline.views.clear()
            return updated

    def disconnect(self, workspace_id: str, medium_id: str) -> bool:
        """Remove a channel's connection to a workspace; False when there was none."""
        with self.lock:
            channel = self.channel(medium_id)
            if channel is None or workspace_id not in channel.get("workspaceIds", ()):
                return False
            channel["workspaceIds"] = [w for w in channel["workspaceIds"] if w != workspace_id]
            return True

    def workspace(self, workspace_id: str) -> dict[str, Any] | None:
        return next((w for w in self.workspaces if w["id"] == workspace_id), None)

    def channel(self, medium_id: str) -> dict[str, Any] | None:
        return next((c for c in self.channels if c["id"] == medium_id), None)

    def custom_labels_of(self, workspace_id: str) -> dict[str, dict[str, Any]]:
        """The workspace's custom label metadata by id: {"name", "color"}."""
        return {
            label["id"]: {"name": label["name"], "color": label.get("color")}
            for label in self._custom_labels
            if label["workspaceId"] == workspace_id
        }

    def secret_of(self, key: str) -> str | None:
        return self._secrets.get(key)
