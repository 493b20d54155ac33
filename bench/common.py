"""What the scenarios share: profiles, timing, datasets landed straight into a data root."""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from dynamo_emulator.generate import generate_dataset
from label_overview import landing
from label_overview.files import write_atomic
from label_overview.warehouse import OFFLINE
from label_overview.windows import day_of_ms

PROFILE = os.environ.get("BENCH", "quick")
FULL = PROFILE == "full"
START = dt.date(2026, 1, 1)
_TIMESTAMP = re.compile(rb'"timestamp":(\d+)')
_WORKSPACE = re.compile(rb'"workspaceId":"([^"]+)","mediumId":"([^"]+)"')
_PERSONAL = re.compile(rb',"userName":"[^"]*"|,"text":"[^"]*"')


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls (noisy shared machines: medians, not means)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def land_generated(
    work: Path,
    home: Path,
    *,
    days: int,
    workspaces: int,
    channels: int,
    per_day: int,
    start: dt.date = START,
    seed: int = 1,
    jsonl_twin: Path | None = None,
) -> int:
    """Generate a dataset and land its messages as the extract step would (no API round trip):
    a Parquet partition per workspace × channel × day, written by the landing's own writer.
    ``jsonl_twin``: also land the same partitions as JSON lines there, as releases before the
    columnar landing did (the bench's JSONL figures).

    The generator writes each workspace × channel's days in order, so partitions are
    contiguous runs of lines: streamed, never held in memory.
    """
    dataset = work / f"dataset-{seed}-{days}-{workspaces}-{channels}-{per_day}"
    if not (dataset / "messages.jsonl").exists():
        generate_dataset(
            dataset,
            seed=seed,
            start=start,
            days=days,
            workspaces=workspaces,
            channels_per_workspace=channels,
            messages_per_day=per_day,
        )
    count, current, lines = 0, None, []

    def flush() -> None:
        if current is not None:
            workspace, medium, day = current
            path = landing.message_partition_path(home / "landing", workspace, medium, day)
            landing.write_message_partition(connection, path, b"".join(lines))
            if jsonl_twin is not None:
                twin = landing.message_partition_path(jsonl_twin, workspace, medium, day)
                write_atomic(twin.with_name(landing.JSONL_MESSAGES_FILE), b"".join(lines))

    with (
        (dataset / "messages.jsonl").open("rb") as source,
        duckdb.connect(config=OFFLINE) as connection,
    ):
        for line in source:
            workspace, medium = (g.decode() for g in _WORKSPACE.search(line).groups())
            day = day_of_ms(int(_TIMESTAMP.search(line)[1]))
            key = (workspace, medium, day)
            if key != current:
                flush()
                current, lines = key, []
            # As landing.MessagePartitions numbers them: '_line' closes each object.
            item = _PERSONAL.sub(b"", line).rstrip(b"\n")
            lines.append(b'%s,"_line":%d}\n' % (item[:-1], len(lines) + 1))
            count += 1
        flush()
    _land_reference(dataset, home)
    # Write back what was just landed (gigabytes, with the JSONL twin) now, not during the
    # first timed round, which alone would share the machine with it.
    os.sync()
    return count


def landed_bytes(landing_dir: Path, file_name: str = landing.MESSAGES_FILE) -> int:
    """The bytes of every message partition named ``file_name`` under ``landing_dir``."""
    return sum(p.stat().st_size for p in landing_dir.glob(f"vip_messages/*/*/*/{file_name}"))


def _land_reference(dataset: Path, home: Path) -> None:
    from dynamo_emulator.dataset import Dataset

    meta = Dataset.load_metadata(dataset)
    landing.write_json_lines(landing.reference_workspaces_path(home / "landing"), meta.workspaces)
    for workspace_id in meta.vip_workspace_ids():
        landing.write_json_lines(
            landing.reference_channels_path(home / "landing", workspace_id),
            [{k: c[k] for k in ("id", "type", "name")} for c in meta.channels_of(workspace_id)],
        )
