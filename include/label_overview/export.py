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
    check_pair(connection, workspace_id, medium_id)
    documents = label_overview_documents(connection, [(workspace_id, medium_id)], window)
    return documents[workspace_id, medium_id, group_by]


def label_overview_documents(
    connection: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]], window: Window
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Documents for many workspace × channel pairs, day and week, in three queries.

    One pass over the message grain with grouping sets gives day buckets, week buckets and
    window totals together, so the cost does not grow with the number of pairs' queries.

    Returns:
        {(workspace_id, medium_id, group_by): document}
    """
    window.check(MAX_WINDOW_DAYS)
    # Filtering by workspace (a semi-join: list_contains would scan the list for every row) is
    # cheaper than by pair; other channels' rows are skipped below.
    params = {
        "workspaces": sorted({w for w, _ in pairs}),
        "first": window.first_day,
        "last": window.last_day,
    }
    where = (
        "workspace_id in (select unnest($workspaces::varchar[]))"
        " and sent_on between $first and $last"
    )
    parts = {
        (w, m, g): {"buckets": defaultdict(dict), "totals": {}, "custom": [], "activity": {}}
        for w, m in pairs
        for g in GROUP_BYS
    }
    for w, m, day, week, label, count, conversations, is_custom in connection.execute(
        f"""select workspace_id, channel_id, sent_on::varchar, week_start::varchar, label,
                   count(*), count(distinct conversation_id), bool_or(is_custom_label)
            from marts.fct_labeled_messages where {where}
            group by grouping sets (
                (workspace_id, channel_id, sent_on, label),
                (workspace_id, channel_id, week_start, label),
                (workspace_id, channel_id, label))""",
        params,
    ).fetchall():
        if (w, m, "day") not in parts:
            continue
        counts = {"count": count, "uniqueConversations": conversations}
        if day is not None:
            parts[w, m, "day"]["buckets"][day][label] = counts
        elif week is not None:
            parts[w, m, "week"]["buckets"][week][label] = counts
        else:
            for group_by in GROUP_BYS:
                parts[w, m, group_by]["totals"][label] = counts
                if is_custom:
                    parts[w, m, group_by]["custom"].append(label)
    for w, m, day, week, messages, conversations in connection.execute(
        f"""select workspace_id, channel_id, sent_on::varchar, week_start::varchar,
                   count(*), count(distinct conversation_id)
            from marts.fct_user_messages where {where}
            group by grouping sets (
                (workspace_id, channel_id, sent_on),
                (workspace_id, channel_id, week_start),
                (workspace_id, channel_id))""",
        params,
    ).fetchall():
        if (w, m, "day") not in parts:
            continue
        counts = {"userMessages": messages, "activeConversations": conversations}
        if day is not None:
            parts[w, m, "day"]["activity"][day] = counts
        elif week is not None:
            parts[w, m, "week"]["activity"][week] = counts
        else:
            for group_by in GROUP_BYS:
                parts[w, m, group_by]["activity_totals"] = counts
    metadata = _custom_label_metadata(connection, params["workspaces"])
    return {
        (w, m, g): assemble_label_overview(
            workspace_id=w,
            medium_id=m,
            window=window,
            group_by=g,
            buckets=part["buckets"],
            totals=part["totals"],
            activity=part["activity"],
            activity_totals=part.get(
                "activity_totals", {"userMessages": 0, "activeConversations": 0}
            ),
            custom_labels={
                label: metadata.get((w, label), {"name": label, "color": None})
                for label in part["custom"]
            },
        )
        for (w, m, g), part in parts.items()
    }


def _custom_label_metadata(
    connection: duckdb.DuckDBPyConnection, workspace_ids: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (workspace_id, label_id): {"name": name, "color": color}
        for workspace_id, label_id, name, color in connection.execute(
            """select workspace_id, custom_label_id, custom_label_name, custom_label_color
               from marts.dim_custom_labels
               where workspace_id in (select unnest($workspaces::varchar[]))""",
            {"workspaces": workspace_ids},
        ).fetchall()
    }


def check_workspace(connection: duckdb.DuckDBPyConnection, workspace_id: str) -> None:
    """Raise ExportError unless the workspace is a VIP workspace in the warehouse."""
    check_pair(connection, workspace_id, None)


def check_pair(
    connection: duckdb.DuckDBPyConnection, workspace_id: str, medium_id: str | None
) -> None:
    """Raise ExportError unless the channel is connected to the VIP workspace in the warehouse
    (with ``medium_id`` None, only the workspace is checked)."""
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
    if medium_id is not None and not found[1]:
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


def publish_workspaces(
    connection: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    workspace_ids: Iterable[str],
    day: dt.date,
    *,
    published_at: str,
) -> list[PublishedFile]:
    """Write the trailing 31-day snapshots [day-30, day] of every channel of the workspaces,
    day and week, then each workspace's manifest. Returns the files written."""
    workspace_ids = sorted(set(workspace_ids))
    window = trailing_window(day)
    pairs = warehouse_pairs(connection, workspace_ids)
    written = []
    for (workspace_id, medium_id, group_by), document in sorted(
        label_overview_documents(connection, pairs, window).items()
    ):
        body = render_label_overview(document)
        path = snapshot_path(exports_dir, workspace_id, medium_id, group_by, window)
        landing.write_atomic(path, body)
        written.append(PublishedFile(path, hashlib.sha256(body).hexdigest()))
    for workspace_id in workspace_ids:
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
