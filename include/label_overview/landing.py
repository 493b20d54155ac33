"""Landing files: raw API data, partitioned by workspace, channel and UTC day, written atomically.

Layout under ``$LABEL_OVERVIEW_HOME/landing/`` (Hive-style partitions, read by dbt's sources)::

    vip_messages/workspace_id=W/medium_id=M/day=D/messages.jsonl (+ _landed.json)
    label_overview_daily/workspace_id=W/medium_id=M/day=D/response.json
    label_overview_weekly/workspace_id=W/medium_id=M/week=MONDAY/response.json
    reference/workspaces.jsonl
    reference/channels/workspace_id=W/channels.jsonl

Each file is one partition, replaced wholesale (temp file + rename) when it is pulled again, so a
rerun of a day is idempotent and two extract tasks never write the same file. Message lines are
the API's items as sent, less the personal fields, plus their ``_line`` number. Beside each
message partition, ``_landed.json`` records when and by which run it was fetched (written after
the partition, so a crash between the two leaves a whole partition with an older record).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from label_overview.files import safe_id, write_atomic
from label_overview.windows import DAY_MS, day_start_ms

# Fields every metric needs; userName and text are personal data kept only on request.
PERSONAL_FIELDS = ("userName", "text")
# Added to each landed message: its line in the partition file (see MessagePartitions).
LINE_FIELD = "_line"
MESSAGES_FILE = "messages.jsonl"
LANDED_FILE = "_landed.json"
RESPONSE_FILE = "response.json"


def message_partition_path(landing: Path, workspace_id: str, channel_id: str, day: dt.date) -> Path:
    return message_partitions_dir(landing, workspace_id, channel_id) / f"day={day}" / MESSAGES_FILE


def message_partitions_dir(landing: Path, workspace_id: str, channel_id: str) -> Path:
    """The folder holding one pair's ``day=D`` message partitions."""
    return _pair_dir(landing / "vip_messages", workspace_id, channel_id)


def overview_partition_path(
    landing: Path, workspace_id: str, channel_id: str, group_by: str, period_start: dt.date
) -> Path:
    key = "week" if group_by == "week" else "day"
    folder = overview_partitions_dir(landing, workspace_id, channel_id, group_by)
    return folder / f"{key}={period_start}" / RESPONSE_FILE


def overview_partitions_dir(
    landing: Path, workspace_id: str, channel_id: str, group_by: str
) -> Path:
    """The folder holding one pair's label-overview partitions of a group-by."""
    table = "label_overview_weekly" if group_by == "week" else "label_overview_daily"
    return _pair_dir(landing / table, workspace_id, channel_id)


def reference_workspaces_path(landing: Path) -> Path:
    return landing / "reference" / "workspaces.jsonl"


def reference_channels_path(landing: Path, workspace_id: str) -> Path:
    workspace = safe_id(workspace_id, what="workspace id")
    return landing / "reference" / "channels" / f"workspace_id={workspace}" / "channels.jsonl"


def remove_channel_lists_except(landing: Path, workspace_ids: set[str]) -> None:
    """Delete the channel lists of every workspace not in ``workspace_ids``: the reference files
    are a snapshot of the API's answer, and a workspace gone from it keeps only its messages."""
    for folder in (landing / "reference" / "channels").glob("workspace_id=*"):
        if folder.name.removeprefix("workspace_id=") not in workspace_ids:
            shutil.rmtree(folder)


def _pair_dir(table_dir: Path, workspace_id: str, channel_id: str) -> Path:
    # The landing is the raw layer and keeps the API's name for a channel (mediumId); dbt's
    # staging models rename it to channel_id, as they rename every source column.
    workspace = safe_id(workspace_id, what="workspace id")
    channel = safe_id(channel_id, what="channel id")
    return table_dir / f"workspace_id={workspace}" / f"medium_id={channel}"


# One encoder for every line: json.dumps with options builds a new one per call.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def land_reference(
    landing: Path, workspaces: list[dict], channels: Mapping[str, list[dict]]
) -> None:
    """Land the reference files dbt's dims read: the /workspaces listing and each listed
    workspace's channels (``channels``).

    They are a snapshot of the API's current answer: a workspace no longer listed as VIP loses
    its channel list (its history lives in the messages).
    """
    write_json_lines(reference_workspaces_path(landing), workspaces)
    remove_channel_lists_except(landing, {w["id"] for w in workspaces if w.get("type") == "VIP"})
    for workspace_id, rows in channels.items():
        write_json_lines(reference_channels_path(landing, workspace_id), rows)


def write_json_lines(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Replace ``path`` with ``records``, one JSON object a line; returns how many."""
    lines = [_LINE_ENCODER.encode(record) for record in records]
    write_atomic(path, "".join(f"{line}\n" for line in lines).encode())
    return len(lines)


class MessagePartitions:
    """One pair's messages by UTC day, each encoded as its landing line when it arrives.

    Messages carry no id, and identical ones (same conversation, millisecond and content) are
    distinct messages: the 1-based ``_line`` added to each is what tells them apart, so the
    warehouse keys a message by its partition and line instead of hashing and numbering
    copies of millions of rows on every build.
    """

    def __init__(self, *, keep_text: bool) -> None:
        self._keep_text = keep_text
        self._lines: dict[int, list[bytes]] = defaultdict(list)

    def add(self, item: dict[str, Any]) -> None:
        """Take one API item (changed in place: personal fields dropped, ``_line`` added)."""
        if not self._keep_text:
            for name in PERSONAL_FIELDS:
                item.pop(name, None)
        lines = self._lines[item["timestamp"] // DAY_MS]
        item[LINE_FIELD] = len(lines) + 1
        lines.append(orjson.dumps(item))

    def write(
        self,
        landing: Path,
        workspace_id: str,
        channel_id: str,
        days: Iterable[dt.date],
        *,
        fetched_at: str,
        run_id: str,
    ) -> int:
        """Replace the partition of each of ``days`` (emptied where no message came) and its
        ``_landed.json`` record; returns the messages written."""
        record = orjson.dumps({"fetchedAt": fetched_at, "runId": run_id}) + b"\n"
        total = 0
        for day in days:
            lines = self._lines.get(day_start_ms(day) // DAY_MS, [])
            path = message_partition_path(landing, workspace_id, channel_id, day)
            write_atomic(path, b"".join(line + b"\n" for line in lines))
            write_atomic(path.with_name(LANDED_FILE), record)
            total += len(lines)
        return total


def write_overview_partition(
    path: Path, *, params: Mapping[str, str], body: bytes, fetched_at: str, run_id: str
) -> None:
    """Replace a label-overview partition: the response body verbatim, with its request."""
    envelope = {
        "request": {"path": "/label-overview", "params": dict(params)},
        "fetchedAt": fetched_at,
        "runId": run_id,
        "body": body.decode(),
    }
    write_json_lines(path, [envelope])
