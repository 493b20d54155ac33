"""Export: label-overview documents computed from the warehouse, and published snapshots.

Documents come from the message grain (``marts.fct_labeled_messages`` and
``marts.fct_user_messages``) so window totals are distinct over the window. DuckDB writes their
JSON in the bytes ``render_label_overview`` gives the emulator's answers, so a snapshot is
byte-for-byte GET /label-overview.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from label_overview import landing
from label_overview.windows import MAX_WINDOW_DAYS, Window

MANIFEST_NAME = "manifest.json"


class ExportError(LookupError):
    """The workspace or channel is not in the warehouse."""


@dataclass(frozen=True)
class PublishedFile:
    """A snapshot written, and when the data behind it was fetched (ISO-8601 UTC)."""

    path: Path
    sha256: str
    fetched_from: str | None
    fetched_to: str | None


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
    """Documents for many workspace × channel pairs, day and week (``label_overview_bodies``,
    parsed).

    Returns:
        {(workspace_id, medium_id, group_by): document}
    """
    return {
        key: orjson.loads(body)
        for key, body in label_overview_bodies(connection, pairs, window).items()
    }


def label_overview_bodies(
    connection: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]], window: Window
) -> dict[tuple[str, str, str], bytes]:
    """The exact bytes of every pair's document, day and week, rendered by one query.

    DuckDB writes the JSON: building 200k label counts into dicts for ``render_label_overview``
    cost three times the aggregation. The text is the renderer's byte for byte (compact, keys in
    the spec's order, labels and bucket keys ascending by code point, strings escaped alike:
    ``tests/unit/test_export_rendering.py`` holds it to the reference on hostile strings, the
    pipeline tests to the API's answers).

    Returns:
        {(workspace_id, medium_id, group_by): document bytes}
    """
    window.check(MAX_WINDOW_DAYS)
    # A cursor of its own: a result the caller left open on ``connection`` would stand in the
    # way of defining the function. The function and the macro live as long as the cursor.
    with connection.cursor() as cursor, _json_text_defined(cursor):
        rows = cursor.execute(
            _DOCUMENTS_SQL,
            {
                "workspaces": [w for w, _ in pairs],
                "channels": [m for _, m in pairs],
                "first": window.first_day,
                "last": window.last_day,
                "day_keys": window.bucket_keys("day"),
                "week_keys": window.bucket_keys("week"),
                "from": window.from_instant,
                "to": window.to_instant,
            },
        ).fetchall()
    return {(w, m, g): body.encode() for w, m, g, body in rows}


@contextmanager
def _json_text_defined(cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """``json_text(s)``: ``s`` as a JSON string, exactly as ``render_label_overview`` writes it,
    defined on ``cursor`` while the block runs.

    DuckDB's ``to_json`` escapes alike except for nine control characters (it writes
    ``\\u001F`` where orjson writes ``\\u001f``): strings holding them go through a Python
    function, ``orjson_text``. DuckDB keeps a Python function in the database's catalog but
    calls it through the connection that made it, so it is removed before that connection
    closes: left behind, the next export would find it defined and crash calling into a closed
    cursor.
    """
    from duckdb.sqltypes import VARCHAR

    cursor.create_function(
        "orjson_text", lambda text: orjson.dumps(text).decode(), [VARCHAR], VARCHAR
    )
    try:
        cursor.execute(
            r"""create or replace temp macro json_text(text) as if(
                    regexp_matches(text, '[\x0b\x0e-\x1f]'),
                    orjson_text(text),
                    to_json(text)::varchar
                )"""
        )
        yield
    finally:
        cursor.remove_function("orjson_text")


# Aggregates as three grouping sets per fact (day bucket, week bucket, window total), then
# each part's JSON object, then one document per pair and group-by. Every bucket of the window
# is present, empty ones as {} and zeros.
_DOCUMENTS_SQL = """
with

pairs as (
    select unnest($workspaces::varchar[]) as workspace_id,
           unnest($channels::varchar[]) as channel_id
),

bucket_keys as (
    select 'day' as group_by, unnest($day_keys::varchar[]) as bucket
    union all
    select 'week', unnest($week_keys::varchar[])
),

label_groups as (
    select
        workspace_id,
        channel_id,
        case when grouping(sent_on) = 0 then 'day' when grouping(week_start) = 0 then 'week' end
            as group_by,
        coalesce(sent_on, week_start)::varchar as bucket,
        label,
        count(*) as messages,
        count(distinct conversation_id) as conversations,
        bool_or(is_custom_label) as is_custom
    from marts.fct_labeled_messages
    -- A semi-join on workspaces: list_contains would scan the list for every row.
    where workspace_id in (select distinct workspace_id from pairs)
        and sent_on between $first and $last
    group by grouping sets (
        (workspace_id, channel_id, sent_on, label),
        (workspace_id, channel_id, week_start, label),
        (workspace_id, channel_id, label)
    )
),

activity_groups as (
    select
        workspace_id,
        channel_id,
        case when grouping(sent_on) = 0 then 'day' when grouping(week_start) = 0 then 'week' end
            as group_by,
        coalesce(sent_on, week_start)::varchar as bucket,
        count(*) as messages,
        count(distinct conversation_id) as conversations
    from marts.fct_user_messages
    where workspace_id in (select distinct workspace_id from pairs)
        and sent_on between $first and $last
    group by grouping sets (
        (workspace_id, channel_id, sent_on),
        (workspace_id, channel_id, week_start),
        (workspace_id, channel_id)
    )
),

-- {"<label>":{"count":n,"uniqueConversations":n},...} per bucket, and per window (group_by null)
label_objects as (
    select
        workspace_id,
        channel_id,
        group_by,
        bucket,
        '{' || string_agg(
            json_text(label) || ':{"count":' || messages
                || ',"uniqueConversations":' || conversations || '}',
            ',' order by label
        ) || '}' as body
    from label_groups
    group by all
),

custom_label_objects as (
    select
        label_groups.workspace_id,
        label_groups.channel_id,
        '{' || string_agg(
            json_text(label_groups.label)
                || ':{"name":' || json_text(coalesce(labels.custom_label_name, label_groups.label))
                || ',"color":' || coalesce(json_text(labels.custom_label_color), 'null') || '}',
            ',' order by label_groups.label
        ) || '}' as body
    from label_groups
    left join marts.dim_custom_labels as labels
        on labels.workspace_id = label_groups.workspace_id
        and labels.custom_label_id = label_groups.label
    where label_groups.group_by is null and label_groups.is_custom
    group by all
),

bucket_objects as (
    select
        pairs.workspace_id,
        pairs.channel_id,
        bucket_keys.group_by,
        '{' || string_agg(
            json_text(bucket_keys.bucket) || ':' || coalesce(label_objects.body, '{}'),
            ',' order by bucket_keys.bucket
        ) || '}' as buckets,
        '{' || string_agg(
            json_text(bucket_keys.bucket)
                || ':{"userMessages":' || coalesce(activity_groups.messages, 0)
                || ',"activeConversations":' || coalesce(activity_groups.conversations, 0) || '}',
            ',' order by bucket_keys.bucket
        ) || '}' as activity
    from pairs
    cross join bucket_keys
    left join label_objects
        on label_objects.workspace_id = pairs.workspace_id
        and label_objects.channel_id = pairs.channel_id
        and label_objects.group_by = bucket_keys.group_by
        and label_objects.bucket = bucket_keys.bucket
    left join activity_groups
        on activity_groups.workspace_id = pairs.workspace_id
        and activity_groups.channel_id = pairs.channel_id
        and activity_groups.group_by = bucket_keys.group_by
        and activity_groups.bucket = bucket_keys.bucket
    group by all
)

select
    bucket_objects.workspace_id,
    bucket_objects.channel_id,
    bucket_objects.group_by,
    '{"workspaceId":' || json_text(bucket_objects.workspace_id)
        || ',"mediumId":' || json_text(bucket_objects.channel_id)
        || ',"groupBy":' || json_text(bucket_objects.group_by)
        || ',"from":' || json_text($from)
        || ',"to":' || json_text($to)
        || ',"buckets":' || bucket_objects.buckets
        || ',"totals":' || coalesce(totals.body, '{}')
        || ',"activity":' || bucket_objects.activity
        || ',"activityTotals":{"userMessages":' || coalesce(activity_totals.messages, 0)
        || ',"activeConversations":' || coalesce(activity_totals.conversations, 0) || '}'
        || ',"customLabels":' || coalesce(custom_label_objects.body, '{}')
        || ',"conversationsScanned":' || coalesce(activity_totals.conversations, 0)
        || '}' as body
from bucket_objects
left join label_objects as totals
    on totals.workspace_id = bucket_objects.workspace_id
    and totals.channel_id = bucket_objects.channel_id
    and totals.group_by is null
left join activity_groups as activity_totals
    on activity_totals.workspace_id = bucket_objects.workspace_id
    and activity_totals.channel_id = bucket_objects.channel_id
    and activity_totals.group_by is null
left join custom_label_objects
    on custom_label_objects.workspace_id = bucket_objects.workspace_id
    and custom_label_objects.channel_id = bucket_objects.channel_id
"""


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


def write_snapshots(
    connection: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    pairs: list[tuple[str, str]],
    window: Window,
    fetched: Mapping[tuple[str, str], tuple[str | None, str | None]],
) -> list[PublishedFile]:
    """Write each pair's snapshots of ``window``, day and week, atomically; ``fetched`` says
    when each pair's data was fetched (earliest, latest). Returns the files written."""
    written = []
    for (workspace_id, medium_id, group_by), body in sorted(
        label_overview_bodies(connection, pairs, window).items()
    ):
        path = snapshot_path(exports_dir, workspace_id, medium_id, group_by, window)
        landing.write_atomic(path, body)
        fetched_from, fetched_to = fetched[workspace_id, medium_id]
        written.append(
            PublishedFile(path, hashlib.sha256(body).hexdigest(), fetched_from, fetched_to)
        )
    return written


def write_manifest(
    workspace_dir: Path,
    workspace_id: str,
    *,
    published_at: str,
    written: Iterable[PublishedFile] = (),
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
        medium_id, group_by = path.parent.parent.name, path.parent.name
        first, _, last = path.stem.partition("_")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        relative = path.relative_to(workspace_dir).as_posix()
        prior = previous.get(relative, {})
        kept = prior if prior.get("sha256") == digest or path not in new else {}
        fresh = new.get(path)
        files.append(
            {
                "path": relative,
                "mediumId": medium_id,
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
    landing.write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _previous_entries(manifest_path: Path) -> dict[str, dict[str, Any]]:
    try:
        return {entry["path"]: entry for entry in json.loads(manifest_path.read_text())["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
