"""Label-overview documents computed from the warehouse: the product's one query.

Documents come from the message grain (``marts.fct_labeled_messages`` and
``marts.fct_user_messages``) so window totals are distinct over the window. DuckDB writes their
JSON in the bytes ``render_label_overview`` gives the emulator's answers, so a snapshot is
byte-for-byte GET /label-overview.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import orjson

from label_overview.windows import MAX_WINDOW_DAYS, Window

# What publishing reads: the documents' facts, the pairs' dims and the coverage ledger (dbt's
# exposure `label_overview_snapshots` names the same marts).
RELATIONS_READ = (
    "marts.fct_user_messages",
    "marts.fct_labeled_messages",
    "marts.dim_custom_labels",
    "marts.dim_channels",
    "marts.dim_workspaces",
    "marts.fct_landing_coverage",
)


class NotInWarehouseError(LookupError):
    """The workspace or channel is not in the warehouse."""


def label_overview_document(
    connection: duckdb.DuckDBPyConnection,
    workspace_id: str,
    channel_id: str,
    window: Window,
    group_by: str = "day",
) -> dict[str, Any]:
    """The GET /label-overview document for a window of at most 31 days, from the warehouse.

    Raises:
        WindowError: the window is reversed or longer than 31 days.
        NotInWarehouseError: the workspace is not a VIP workspace or the channel is not
            connected to it.
    """
    check_pair(connection, workspace_id, channel_id)
    documents = label_overview_documents(connection, [(workspace_id, channel_id)], window)
    return documents[workspace_id, channel_id, group_by]


def label_overview_documents(
    connection: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]], window: Window
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Documents for many workspace × channel pairs, day and week (``label_overview_bodies``,
    parsed).

    Returns:
        {(workspace_id, channel_id, group_by): document}
    """
    return parsed_documents(label_overview_bodies(connection, pairs, window))


def parsed_documents(
    bodies: dict[tuple[str, str, str], bytes],
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``label_overview_bodies``' documents as dicts, under the same keys."""
    return {key: orjson.loads(body) for key, body in bodies.items()}


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
        {(workspace_id, channel_id, group_by): document bytes}
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


# The document query, in a SQL file of its own; dbt's exposure `label_overview_snapshots`
# names the marts it reads.
_DOCUMENTS_SQL = (
    importlib.resources.files("label_overview") / "sql" / "label_overview_documents.sql"
).read_text(encoding="utf-8")


def check_workspace(connection: duckdb.DuckDBPyConnection, workspace_id: str) -> None:
    """Raise NotInWarehouseError unless the workspace is a VIP workspace in the warehouse."""
    check_pair(connection, workspace_id, None)


def check_pair(
    connection: duckdb.DuckDBPyConnection, workspace_id: str, channel_id: str | None
) -> None:
    """Raise NotInWarehouseError unless the channel is connected to the VIP workspace in the
    warehouse (with ``channel_id`` None, only the workspace is checked)."""
    found = connection.execute(
        """select
               exists (from marts.dim_workspaces where workspace_id = $w and is_vip),
               exists (from marts.dim_channels where workspace_id = $w and channel_id = $m)""",
        {"w": workspace_id, "m": channel_id},
    ).fetchone()
    if not found[0]:
        raise NotInWarehouseError(
            f"unknown workspace {workspace_id!r} (not a VIP workspace in the warehouse)"
        )
    if channel_id is not None and not found[1]:
        raise NotInWarehouseError(
            f"channel {channel_id!r} is not connected to workspace {workspace_id!r}"
        )


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
