"""What a publish reads and writes: one read of the warehouse for a batch of workspaces (its
documents in chunks, beside the writes), then each workspace's snapshots, manifest and label
trend reports (``steps.publish`` decides which workspaces, under which lock, and records each
one).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from label_overview import coverage, snapshots
from label_overview.documents import label_overview_bodies, warehouse_pairs
from label_overview.files import cache_dir
from label_overview.report import channel_reports, write_reports
from label_overview.report_charts import javascript_bundle
from label_overview.windows import Window


@dataclass(frozen=True)
class Publication:
    """What publishing did: files written, workspaces held back by a failed extract, and pairs
    held back because their window has days never landed."""

    files: int = 0
    skipped: Mapping[str, list[str]] = field(default_factory=dict)
    incomplete: Mapping[tuple[str, str], list[dt.date]] = field(default_factory=dict)
    window: Window | None = None

    @classmethod
    def merged(cls, publications: Iterable[Publication], window: Window) -> Publication:
        """The publications of a batch's workspaces, one each, as one."""
        files, skipped, incomplete = 0, {}, {}
        for publication in publications:
            files += publication.files
            skipped.update(publication.skipped)
            incomplete.update(publication.incomplete)
        return cls(files, skipped, incomplete, window)

    def errors(self) -> list[str]:
        """One line per workspace or pair not published."""
        return self.skipped_lines() + self.incomplete_lines()

    def skipped_lines(self) -> list[str]:
        return [
            f"workspace {workspace_id}: extract failed for {', '.join(sorted(pairs))};"
            " not publishing"
            for workspace_id, pairs in sorted(self.skipped.items())
        ]

    def incomplete_lines(self) -> list[str]:
        return [
            f"{workspace_id}/{channel_id}: {coverage.describe_days(days)} never landed;"
            f" not publishing its {self.window} snapshots"
            for (workspace_id, channel_id), days in sorted(self.incomplete.items())
        ]


@dataclass(frozen=True)
class Batch:
    """What a batch of workspaces' files are drawn from, read once for all of them: from the
    warehouse, for one window and by workspace, its pairs, each pair's coverage of the window
    and the documents of the pairs that cover it whole (each workspace's, once its chunk of the
    batch is read: ``read_batch``); and the pages' charting JavaScript (UTF-8)."""

    window: Window
    pairs: Mapping[str, list[tuple[str, str]]]
    covered: Mapping[tuple[str, str], coverage.WindowCoverage]
    bodies: Mapping[str, Future[dict[str, dict[tuple[str, str, str], bytes]]]]
    javascript: bytes

    def workspace_bodies(self, workspace_id: str) -> dict[tuple[str, str, str], bytes]:
        """The documents of a workspace's whole pairs, waiting for its chunk's query."""
        chunk = self.bodies.get(workspace_id)
        return {} if chunk is None else chunk.result().get(workspace_id, {})


def read_batch(
    connection: duckdb.DuckDBPyConnection,
    workspace_ids: Iterable[str],
    window: Window,
    reader: Executor,
) -> Batch:
    """Every pair of ``workspace_ids``, its coverage and its documents (which feed both the
    snapshots and the reports): one query each for the pairs and their coverage, and the
    documents' query in chunks of workspaces, in their order, submitted to ``reader``.

    ``reader`` has one thread, which owns ``connection`` until its queries are done: DuckDB
    computes a chunk's documents without the GIL while the caller writes the files of the chunk
    before (two cores, both busy; ``_chunks``).
    """
    workspace_ids = list(dict.fromkeys(workspace_ids))
    pairs = warehouse_pairs(connection, workspace_ids)
    covered = coverage.window_coverage(connection, pairs, window)
    pairs_by_workspace: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in pairs:
        pairs_by_workspace[pair[0]].append(pair)
    bodies = {}
    for chunk in _chunks(workspace_ids):
        complete = [
            pair
            for workspace_id in chunk
            for pair in pairs_by_workspace[workspace_id]
            if not covered[pair].missing
        ]
        read = reader.submit(_bodies_by_workspace, connection, complete, window)
        bodies.update(dict.fromkeys(chunk, read))
    javascript = javascript_bundle(cache_dir()).encode()
    return Batch(window, pairs_by_workspace, covered, bodies, javascript)


# Measured at 500 pairs on 2 cores: a chunk's query costs ~20 ms plus ~2.2 ms a pair, and
# writing a pair's files ~2.9 ms. The first chunk is small, so that writing starts soon; each
# next one a quarter larger, so that the query stays ahead of the writes (doubling fell
# behind: the writes waited 0.35 s for documents of a 2 s publish).
FIRST_CHUNK, CHUNK_GROWTH = 16, 1.25


def _chunks(workspace_ids: list[str]) -> Iterator[list[str]]:
    """``workspace_ids`` in consecutive chunks, ``FIRST_CHUNK`` of them first, each next
    chunk ``CHUNK_GROWTH`` times larger."""
    size, start = float(FIRST_CHUNK), 0
    while start < len(workspace_ids):
        end = start + round(size)
        yield workspace_ids[start:end]
        start, size = end, size * CHUNK_GROWTH


def _bodies_by_workspace(
    connection: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]], window: Window
) -> dict[str, dict[tuple[str, str, str], bytes]]:
    by_workspace: dict[str, dict[tuple[str, str, str], bytes]] = defaultdict(dict)
    for key, body in label_overview_bodies(connection, pairs, window).items():
        by_workspace[key[0]][key] = body
    return by_workspace


def write_workspace(
    snapshots_dir: Path, workspace_id: str, batch: Batch, published_at: str
) -> Publication:
    """Write one workspace's snapshots of its whole pairs, its manifest and its reports, from
    the ``batch`` it belongs to; returns what it wrote and the pairs it held back."""
    covered = {pair: batch.covered[pair] for pair in batch.pairs.get(workspace_id, [])}
    bodies = batch.workspace_bodies(workspace_id)
    written = snapshots.write_snapshots(
        snapshots_dir,
        bodies,
        batch.window,
        {pair: (c.fetched_from, c.fetched_to) for pair, c in covered.items() if not c.missing},
    )
    snapshots.write_manifest(
        snapshots_dir / workspace_id, workspace_id, published_at=published_at, written=written
    )
    reports = channel_reports(batch.window, bodies, javascript=batch.javascript)
    write_reports(snapshots_dir, workspace_id, reports)
    incomplete = {pair: c.missing for pair, c in covered.items() if c.missing}
    return Publication(len(written), {}, incomplete, batch.window)
