"""Landing files: raw API data, partitioned by workspace, channel and UTC day, written atomically.

Layout under ``$LABEL_OVERVIEW_HOME/landing/`` (Hive-style partitions, read by dbt's sources)::

    vip_messages/workspace_id=W/medium_id=M/day=D/messages.parquet (+ _landed.json)
    label_overview_daily/workspace_id=W/medium_id=M/day=D/response.json
    label_overview_weekly/workspace_id=W/medium_id=M/week=MONDAY/response.json
    reference/workspaces.jsonl
    reference/channels/workspace_id=W/channels.jsonl

Each file is one partition, replaced wholesale (temp file + rename) when it is pulled again, so a
rerun of a day is idempotent and two extract tasks never write the same file. A message
partition is one Parquet file (zstd), a row per API item with the fields the contract names,
the personal ones null unless kept, plus its ``_line``: its position in the API's order. Beside
each message partition, ``_landed.json`` records when and by which run it was fetched (written
after the partition, so a crash between the two leaves a whole partition with an older record).
The label-overview responses stay JSON: they are small, and they are the API's own bytes.

Releases before the columnar landing wrote ``messages.jsonl``, the same rows as JSON lines;
``convert_jsonl_partitions`` rewrites them in place.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import orjson

from label_overview.files import atomic_path, safe_id, write_atomic
from label_overview.warehouse import OFFLINE
from label_overview.windows import DAY_MS, day_of_ms, day_start_ms, iso_instant

# Fields every metric needs; userName and text are personal data kept only on request.
PERSONAL_FIELDS = ("userName", "text")
# Added to each landed message: its position in its partition, in the API's order
# (see MessagePartitions).
LINE_FIELD = "_line"
MESSAGES_FILE = "messages.parquet"
JSONL_MESSAGES_FILE = "messages.jsonl"
LANDED_FILE = "_landed.json"
# Written when a pass has converted every JSONL message partition of a landing (is_columnar).
COLUMNAR_FILE = "_columnar.json"
# A message partition's columns: the contract's item fields, typed as dbt's source declares
# them. A value of another JSON type is kept as its JSON text, as DuckDB's read_json casts it;
# fields the contract does not name are not landed.
MESSAGE_COLUMNS = {
    LINE_FIELD: "BIGINT",
    "timestamp": "BIGINT",
    "date": "VARCHAR",
    "conversationId": "VARCHAR",
    "userName": "VARCHAR",
    "kind": "VARCHAR",
    "source": "VARCHAR",
    "labels": "VARCHAR[]",
    "customLabelIds": "VARCHAR[]",
    "text": "VARCHAR",
}
RESPONSE_FILE = "response.json"


class LandingConversionError(RuntimeError):
    """A JSONL message partition that cannot be read as the API's items: left as it was."""


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


def reference_dir(landing: Path) -> Path:
    """The API's listings, replaced whole by every plan (``land_reference``)."""
    return landing / "reference"


def reference_workspaces_path(landing: Path) -> Path:
    return reference_dir(landing) / "workspaces.jsonl"


def reference_channels_path(landing: Path, workspace_id: str) -> Path:
    workspace = safe_id(workspace_id, what="workspace id")
    return reference_dir(landing) / "channels" / f"workspace_id={workspace}" / "channels.jsonl"


def remove_channel_lists_except(landing: Path, workspace_ids: set[str]) -> None:
    """Delete the channel lists of every workspace not in ``workspace_ids``: the reference files
    are a snapshot of the API's answer, and a workspace gone from it keeps only its messages."""
    for folder in (reference_dir(landing) / "channels").glob("workspace_id=*"):
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
    """One pair's messages of a window, landed by UTC day as they arrive; a context manager.

    The API sends a window's messages newest first, so a day is whole once an older day's
    first message arrives: its Parquet file is written then, on a thread of its own, while the
    pages of older days are still being fetched (DuckDB writes without holding the GIL).

    Messages carry no id, and identical ones (same conversation, millisecond and content) are
    distinct messages: the 1-based ``_line`` added to each is what tells them apart, so the
    warehouse keys a message by its partition and line instead of hashing and numbering
    copies of millions of rows on every build.
    """

    def __init__(self, landing: Path, workspace_id: str, channel_id: str, *, keep_text: bool):
        self._landing, self._pair = landing, (workspace_id, channel_id)
        self._keep_text = keep_text
        self._day: int | None = None  # the day being filled, in days since the epoch
        self._lines: list[bytes] = []
        self._landed: dict[int, Future[int]] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing")
        self._connection = duckdb.connect(config=OFFLINE)

    def __enter__(self) -> MessagePartitions:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._writer.shutdown(wait=True, cancel_futures=True)
        self._connection.close()

    def add(self, item: dict[str, Any]) -> None:
        """Take one API item (changed in place: personal fields dropped, ``_line`` added)."""
        if not self._keep_text:
            for name in PERSONAL_FIELDS:
                item.pop(name, None)
        day = item["timestamp"] // DAY_MS
        if day != self._day:
            self._seal()
            if day in self._landed:
                raise ValueError(f"a message of {item['timestamp']} came after its day was landed")
            self._day = day
        item[LINE_FIELD] = len(self._lines) + 1
        self._lines.append(orjson.dumps(item))

    def write(self, days: Iterable[dt.date], *, fetched_at: str, run_id: str) -> int:
        """Land the days not landed yet (each of ``days`` without a message is emptied), wait
        for every partition, then write each one's ``_landed.json`` record; returns the
        messages landed."""
        self._seal()
        for day in days:
            if day_start_ms(day) // DAY_MS not in self._landed:
                self._land(day_start_ms(day) // DAY_MS, [])
        total = sum(landed.result() for landed in self._landed.values())
        record = orjson.dumps({"fetchedAt": fetched_at, "runId": run_id}) + b"\n"
        for day in self._landed:
            write_atomic(self._path(day).with_name(LANDED_FILE), record)
        return total

    def _seal(self) -> None:
        """Hand the day being filled to the writer: no message of it comes after this."""
        if self._day is not None:
            self._land(self._day, self._lines)
            self._day, self._lines = None, []

    def _land(self, day: int, lines: list[bytes]) -> None:
        def land() -> int:
            payload = b"".join(line + b"\n" for line in lines)
            write_message_partition(self._connection, self._path(day), payload)
            return len(lines)

        self._landed[day] = self._writer.submit(land)

    def _path(self, day: int) -> Path:
        return message_partition_path(self._landing, *self._pair, day_of_ms(day * DAY_MS))


def write_message_partition(
    connection: duckdb.DuckDBPyConnection, path: Path, lines: bytes
) -> None:
    """Replace the Parquet partition ``path`` with the messages of ``lines`` (JSON objects, one
    a line, each with its ``_line``), and remove a JSONL partition an older release left there."""
    rows = connection.read_json(
        io.BytesIO(lines), format="newline_delimited", columns=MESSAGE_COLUMNS
    )
    with atomic_path(path) as temp:
        rows.write_parquet(str(temp), compression="zstd")
    path.with_name(JSONL_MESSAGES_FILE).unlink(missing_ok=True)


def convert_jsonl_partitions(landing: Path) -> int:
    """Rewrite every JSONL message partition under ``landing`` as Parquet, in place, each
    atomically (the Parquet file replaces it whole, then the JSONL file goes); returns how many.
    Then records that the landing is columnar (``is_columnar``).

    A partition that already has its Parquet file was pulled again since: the JSONL file is
    older and only removed. Safe to repeat and to interrupt; the caller keeps builds out
    meanwhile (a partition being converted is in neither format for dbt's glob).
    """
    converted = 0
    with duckdb.connect(config=OFFLINE) as connection:
        for path in sorted((landing / "vip_messages").glob(f"*/*/day=*/{JSONL_MESSAGES_FILE}")):
            target = path.with_name(MESSAGES_FILE)
            if not target.exists():
                try:
                    write_message_partition(connection, target, path.read_bytes())
                except duckdb.Error as error:
                    # DuckDB names the bytes it was handed by an internal URL: the path says it.
                    reason = _IN_FILE.sub("", str(error).splitlines()[0])
                    raise LandingConversionError(f"cannot convert {path}: {reason}") from None
                converted += 1
            path.unlink(missing_ok=True)
    record = {"format": "parquet", "checkedAt": iso_instant(int(time.time() * 1000))}
    write_atomic(_columnar_marker(landing), orjson.dumps(record) + b"\n")
    return converted


_IN_FILE = re.compile(r' in file "[^"]*"')


def is_columnar(landing: Path) -> bool:
    """Whether ``landing`` is known to hold no JSONL message partition: a conversion pass
    finished there (a landing this release started is one after its first run's plan)."""
    return _columnar_marker(landing).exists()


def _columnar_marker(landing: Path) -> Path:
    return landing / "vip_messages" / COLUMNAR_FILE


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
