"""Published snapshots: each pair's documents written as files, and each workspace's manifest.

The folder is ``$LABEL_OVERVIEW_HOME/exports/<workspace>/<channel>/<groupBy>/<from>_<to>.json``
(its published name, which users' jobs read); the documents are ``documents.py``'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from label_overview.files import safe_id, write_atomic
from label_overview.layout import MANIFEST_NAME
from label_overview.windows import Window


@dataclass(frozen=True)
class Snapshot:
    """A snapshot written, and when the data behind it was fetched (ISO-8601 UTC)."""

    path: Path
    sha256: str
    fetched_from: str | None
    fetched_to: str | None


def snapshot_path(
    snapshots_dir: Path, workspace_id: str, channel_id: str, group_by: str, window: Window
) -> Path:
    workspace = safe_id(workspace_id, what="workspace id")
    channel = safe_id(channel_id, what="channel id")
    return (
        snapshots_dir
        / workspace
        / channel
        / group_by
        / f"{window.first_day}_{window.last_day}.json"
    )


def write_snapshots(
    snapshots_dir: Path,
    bodies: Mapping[tuple[str, str, str], bytes],
    window: Window,
    fetched: Mapping[tuple[str, str], tuple[str | None, str | None]],
) -> list[Snapshot]:
    """Write each document of ``window`` (``documents.label_overview_bodies``: the caller's
    query, which the report reads too) atomically; ``fetched`` says when each pair's data was
    fetched (earliest, latest). Returns the files written."""
    written = []
    for (workspace_id, channel_id, group_by), body in sorted(bodies.items()):
        path = snapshot_path(snapshots_dir, workspace_id, channel_id, group_by, window)
        write_atomic(path, body)
        fetched_from, fetched_to = fetched[workspace_id, channel_id]
        written.append(Snapshot(path, hashlib.sha256(body).hexdigest(), fetched_from, fetched_to))
    return written


def write_manifest(
    workspace_dir: Path,
    workspace_id: str,
    *,
    published_at: str,
    written: Iterable[Snapshot] = (),
) -> dict[str, Any]:
    """List every complete snapshot in a workspace's folder with its sha256, window and the
    fetch times of the data behind it (``written``: the files this publication wrote).

    A file keeps the ``publishedAt`` and fetch times of the previous manifest while its bytes
    are unchanged, so a rerun that changes nothing leaves the manifest byte-identical too.
    """
    manifest_path = workspace_dir / MANIFEST_NAME
    previous = _previous_entries(manifest_path)
    new = {file.path: file for file in written}
    files = []
    for path in sorted(workspace_dir.glob("*/*/*.json")):
        channel_id, group_by = path.parent.parent.name, path.parent.name
        first, _, last = path.stem.partition("_")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        relative = path.relative_to(workspace_dir).as_posix()
        prior = previous.get(relative, {})
        kept = prior if prior.get("sha256") == digest or path not in new else {}
        fresh = new.get(path)
        files.append(
            {
                "path": relative,
                "mediumId": channel_id,
                "groupBy": group_by,
                "from": first,
                "to": last,
                "sha256": digest,
                "bytes": path.stat().st_size,
                "publishedAt": kept.get("publishedAt", published_at),
                "fetchedFrom": kept.get("fetchedFrom", fresh and fresh.fetched_from),
                "fetchedTo": kept.get("fetchedTo", fresh and fresh.fetched_to),
            }
        )
    manifest = {"workspaceId": workspace_id, "files": files}
    write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _previous_entries(manifest_path: Path) -> dict[str, dict[str, Any]]:
    try:
        return {entry["path"]: entry for entry in json.loads(manifest_path.read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
