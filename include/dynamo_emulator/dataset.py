"""The dataset directory: what the emulator serves and what ``generate`` writes.

Layout (one directory):
``organization.json`` {"id","name","active"}; ``api_keys.json`` [{"key","secret"}];
``workspaces.json`` (the GET /workspaces body); ``channels.json``
[{"id","type","name","workspaceIds"}]; ``custom_labels.json``
[{"workspaceId","id","name","color"}]; ``messages.jsonl``, one message a line:
{"workspaceId","mediumId"} plus every vip-messages item field, and optionally "labeledAt"
(epoch ms): when its labels arrive, if after the message (see ``store``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ITEM_FIELDS = (
    "timestamp",
    "date",
    "conversationId",
    "userName",
    "kind",
    "source",
    "labels",
    "customLabelIds",
    "text",
)
CONTENT_TYPES = ("text", "postback", "attachment", "other")


@dataclass
class Dataset:
    """An organization's data as the emulator serves it."""

    organization: dict[str, Any]
    api_keys: list[dict[str, str]]
    workspaces: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    custom_labels: list[dict[str, Any]]
    messages: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, directory: str | Path) -> Dataset:
        dataset = cls.load_metadata(directory)
        with (Path(directory) / "messages.jsonl").open(encoding="utf-8") as lines:
            dataset.messages = [json.loads(line) for line in lines if line.strip()]
        return dataset

    @classmethod
    def load_metadata(cls, directory: str | Path) -> Dataset:
        """Everything but the messages (which may be millions)."""
        root = Path(directory)
        return cls(
            organization=_read_json(root / "organization.json"),
            api_keys=_read_json(root / "api_keys.json"),
            workspaces=_read_json(root / "workspaces.json"),
            channels=_read_json(root / "channels.json"),
            custom_labels=_read_json(root / "custom_labels.json"),
        )

    def save(self, directory: str | Path) -> None:
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        for name, value in (
            ("organization.json", self.organization),
            ("api_keys.json", self.api_keys),
            ("workspaces.json", self.workspaces),
            ("channels.json", self.channels),
            ("custom_labels.json", self.custom_labels),
        ):
            (root / name).write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        write_messages(root / "messages.jsonl", self.messages)

    def vip_workspace_ids(self) -> list[str]:
        return [w["id"] for w in self.workspaces if w.get("type") == "VIP"]

    def channels_of(self, workspace_id: str) -> list[dict[str, Any]]:
        return [c for c in self.channels if workspace_id in c.get("workspaceIds", ())]

    def custom_labels_of(self, workspace_id: str) -> dict[str, dict[str, Any]]:
        return {
            label["id"]: {"name": label["name"], "color": label.get("color")}
            for label in self.custom_labels
            if label["workspaceId"] == workspace_id
        }

    def messages_by_pair(self) -> Mapping[tuple[str, str], list[dict[str, Any]]]:
        pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for message in self.messages:
            pairs[message["workspaceId"], message["mediumId"]].append(message)
        return pairs


def item_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """The vip-messages item for a dataset message, fields in the spec's order."""
    return {name: message.get(name) for name in ITEM_FIELDS}


def write_messages(path: Path, messages: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for message in messages:
            out.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
