"""Export: label-overview documents computed from the warehouse, and published snapshots.

Documents come from the message grain (``marts.fct_labeled_messages`` and
``marts.fct_user_messages``) so window totals are distinct over the window, and are rendered by
the same code as the emulator's answers, so a snapshot is byte-for-byte GET /label-overview.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from label_overview import landing
from label_overview.contract import validate_label_overview
from label_overview.overview import assemble_label_overview, render_label_overview
from label_overview.windows import GROUP_BYS, MAX_WINDOW_DAYS, Window, trailing_window

MANIFEST_NAME = "manifest.json"


class ExportError(LookupError):
    """The workspace or channel is not in the warehouse."""


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    sha256: str


def label_overview_document(
    connection: duckdb.DuckDBPyConnection,
    workspace_id: str,
    medium_id: str,
    window: Window,
    group_by: str = "day",
) -> dict[str, Any]:
    """The GET /label-overview document for a window of at most 31 days, from the warehouse.

    Raises:
        WindowError: the window is reversed or longer than 31 days.
        ExportError: the workspace is not a VIP workspace or the channel not connected to it.
    """
    window.check(MAX_WINDOW_DAYS)
    check_pair(connection, workspace_id, medium_id)
    bucket = "week_start" if group_by == "week" else "sent_on"
    filters = (
        "workspace_id = $workspace and channel_id = $medium and sent_on between $first and $last"
    )
    params = {
        "workspace": workspace_id,
        "medium": medium_id,
        "first": window.first_day,
        "last": window.last_day,
    }
    buckets: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for key, label, count, conversations in connection.execute(
        f"""select {bucket}, label, count(*), count(distinct conversation_id)
            from marts.fct_labeled_messages where {filters} group by all""",
        params,
    ).fetchall():
        buckets[key.isoformat()][label] = _counts(count, conversations)
    totals, custom_ids = {}, []
    for label, count, conversations, is_custom in connection.execute(
        f"""select label, count(*), count(distinct conversation_id), bool_or(is_custom_label)
            from marts.fct_labeled_messages where {filters} group by all""",
        params,
    ).fetchall():
        totals[label] = _counts(count, conversations)
        if is_custom:
            custom_ids.append(label)
    activity = {
        key.isoformat(): {"userMessages": messages, "activeConversations": conversations}
        for key, messages, conversations in connection.execute(
            f"""select {bucket}, count(*), count(distinct conversation_id)
                from marts.fct_user_messages where {filters} group by all""",
            params,
        ).fetchall()
    }
    messages, conversations = connection.execute(
        f"""select count(*), count(distinct conversation_id)
            from marts.fct_user_messages where {filters}""",
        params,
    ).fetchone()
    return assemble_label_overview(
        workspace_id=workspace_id,
        medium_id=medium_id,
        window=window,
        group_by=group_by,
        buckets=buckets,
        totals=totals,
        activity=activity,
        activity_totals={"userMessages": messages, "activeConversations": conversations},
        custom_labels=_custom_label_metadata(connection, workspace_id, custom_ids),
    )


def _counts(count: int, conversations: int) -> dict[str, int]:
    return {"count": count, "uniqueConversations": conversations}


def _custom_label_metadata(
    connection: duckdb.DuckDBPyConnection, workspace_id: str, custom_ids: list[str]
) -> dict[str, dict[str, Any]]:
    known = {
        label_id: {"name": name, "color": color}
        for label_id, name, color in connection.execute(
            """select custom_label_id, custom_label_name, custom_label_color
               from marts.dim_custom_labels
               where workspace_id = $workspace and list_contains($ids, custom_label_id)""",
            {"workspace": workspace_id, "ids": custom_ids},
        ).fetchall()
    }
    return {i: known.get(i, {"name": i, "color": None}) for i in custom_ids}


def check_pair(connection: duckdb.DuckDBPyConnection, workspace_id: str, medium_id: str) -> None:
    """Raise ExportError unless the channel is connected to the VIP workspace in the warehouse."""
    found = connection.execute(
        """select
               exists (from marts.dim_workspaces where workspace_id = $w and is_vip),
               exists (from marts.dim_channels where workspace_id = $w and channel_id = $m)""",
        {"w": workspace_id, "m": medium_id},
    ).fetchone()
    if not found[0]:
        raise ExportError(
            f"unknown workspace {workspace_id!r} (not a VIP workspace in the warehouse)"
        )
    if not found[1]:
        raise ExportError(f"channel {medium_id!r} is not connected to workspace {workspace_id!r}")


def warehouse_pairs(
    connection: duckdb.DuckDBPyConnection, workspace_ids: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Every VIP workspace × connected channel in the warehouse, optionally for some workspaces."""
    pairs = connection.execute(
        """select channels.workspace_id, channels.channel_id
           from marts.dim_channels as channels
           inner join marts.dim_workspaces as workspaces using (workspace_id)
           where workspaces.is_vip
           order by all"""
    ).fetchall()
    wanted = None if workspace_ids is None else set(workspace_ids)
    return [pair for pair in pairs if wanted is None or pair[0] in wanted]


def snapshot_path(
    exports_dir: Path, workspace_id: str, medium_id: str, group_by: str, window: Window
) -> Path:
    workspace = landing.safe_id(workspace_id, what="workspace id")
    medium = landing.safe_id(medium_id, what="channel id")
    return (
        exports_dir / workspace / medium / group_by / f"{window.first_day}_{window.last_day}.json"
    )


def publish_workspace(
    connection: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    workspace_id: str,
    day: dt.date,
    *,
    published_at: str,
) -> list[PublishedFile]:
    """Write the trailing 31-day snapshots [day-30, day] of every channel of one workspace,
    day and week, then its manifest. Returns the files written."""
    window = trailing_window(day)
    written = []
    for _, medium_id in warehouse_pairs(connection, [workspace_id]):
        for group_by in GROUP_BYS:
            document = label_overview_document(
                connection, workspace_id, medium_id, window, group_by
            )
            validate_label_overview(document)
            body = render_label_overview(document)
            path = snapshot_path(exports_dir, workspace_id, medium_id, group_by, window)
            landing.write_atomic(path, body)
            written.append(PublishedFile(path, hashlib.sha256(body).hexdigest()))
    write_manifest(exports_dir / workspace_id, workspace_id, published_at=published_at)
    return written


def write_manifest(workspace_dir: Path, workspace_id: str, *, published_at: str) -> dict[str, Any]:
    """List every complete snapshot in a workspace's folder with its sha256 and window.

    A file keeps the ``publishedAt`` of the previous manifest while its bytes are unchanged, so
    a rerun that changes nothing leaves the manifest byte-identical too.
    """
    manifest_path = workspace_dir / MANIFEST_NAME
    previous = _previous_entries(manifest_path)
    files = []
    for path in sorted(workspace_dir.glob("*/*/*.json")):
        medium_id, group_by = path.parent.parent.name, path.parent.name
        first, _, last = path.stem.partition("_")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        relative = path.relative_to(workspace_dir).as_posix()
        prior = previous.get(relative, {})
        files.append(
            {
                "path": relative,
                "mediumId": medium_id,
                "groupBy": group_by,
                "from": first,
                "to": last,
                "sha256": digest,
                "bytes": path.stat().st_size,
                "publishedAt": prior.get("publishedAt")
                if prior.get("sha256") == digest
                else published_at,
            }
        )
    manifest = {"workspaceId": workspace_id, "files": files}
    landing.write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _previous_entries(manifest_path: Path) -> dict[str, dict[str, Any]]:
    try:
        return {entry["path"]: entry for entry in json.loads(manifest_path.read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
