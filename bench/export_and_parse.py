"""Scenarios 4 and 5: publishing against one aggregate query and its bytes, and DAG parsing."""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.common import FULL, START, land_generated
from bench.transform import measured_build
from label_overview import coverage, runs
from label_overview.documents import label_overview_bodies, warehouse_pairs
from label_overview.files import write_atomic
from label_overview.report import channel_reports, write_reports
from label_overview.settings import Settings
from label_overview.snapshots import write_manifest, write_snapshots
from label_overview.steps import publish
from label_overview.warehouse import read_only
from label_overview.windows import trailing_window

REPO = Path(__file__).resolve().parents[1]

ALL_AGGREGATES = """
select workspace_id, channel_id, sent_on, week_start, label,
       count(*), count(distinct conversation_id)
from marts.fct_labeled_messages where sent_on between $first and $last
group by grouping sets (
    (workspace_id, channel_id, sent_on, label),
    (workspace_id, channel_id, week_start, label),
    (workspace_id, channel_id, label))
union all
select workspace_id, channel_id, sent_on, week_start, null,
       count(*), count(distinct conversation_id)
from marts.fct_user_messages where sent_on between $first and $last
group by grouping sets (
    (workspace_id, channel_id, sent_on),
    (workspace_id, channel_id, week_start),
    (workspace_id, channel_id))
"""


def export_overhead(work: Path) -> dict:
    """Publishing every workspace as a run does (``steps.publish``: snapshots, manifest, label
    trend reports), against its floor: one aggregate query over the whole window plus writing
    the bytes publishing wrote, as plain files in the same number, with the same atomic write.

    Rounds interleave the floor, the plain writes and the publish, so a busier minute of the
    shared machine hits all three (``ratio`` is the medians', ``round_ratios`` each round's).
    Beside it, the earlier figure: snapshots and manifests of every pair from one query
    (``snapshots_s``), and the reports alone, from the documents' bytes already read
    (``reports_s``).
    """
    workspaces = 250 if FULL else 25
    home = work / f"export-{workspaces}"
    land_generated(work, home, days=31, workspaces=workspaces, channels=2, per_day=40)
    (home / "warehouse.duckdb").unlink(missing_ok=True)
    measured_build(home)
    last = START + dt.timedelta(days=30)
    settings = Settings(home=home)
    window = trailing_window(last)
    with read_only(settings.root.warehouse) as connection:
        pairs = connection.execute("select count(*) from marts.dim_channels").fetchone()[0]
        ids = [
            w
            for (w,) in connection.execute(
                "select workspace_id from marts.dim_workspaces where is_vip order by all"
            ).fetchall()
        ]

    def publish_all() -> float:
        started = time.perf_counter()
        publish(settings, ids, last, run_id="bench")
        return time.perf_counter() - started

    publish_all()  # creates the folders and lists what a publish writes
    published = _published_files(settings, ids)
    plain = work / f"plain-writes-{workspaces}"
    _write_plain(plain, published)
    floors, writes, publishes = [], [], []
    for _ in range(3):
        floors.append(_one_query(settings, window))
        writes.append(_write_plain(plain, published))
        publishes.append(publish_all())
    snapshots, reports = [], []
    for _ in range(3):
        with read_only(settings.root.warehouse) as connection:
            started = time.perf_counter()
            bodies = _snapshots_and_manifests(connection, settings, ids, window)
            snapshots.append(time.perf_counter() - started)
        reports.append(_reports_alone(settings, window, bodies))
    floor_s, write_s = statistics.median(floors), statistics.median(writes)
    publish_s, snapshots_s = statistics.median(publishes), statistics.median(snapshots)
    return {
        "pairs": pairs,
        "workspaces": len(ids),
        "files": len(published),
        "mib_written": round(sum(published.values()) / 2**20, 1),
        "publish_s": round(publish_s, 3),
        "publish_per_workspace_s": round(publish_s / len(ids), 4),
        "one_query_s": round(floor_s, 3),
        "plain_writes_s": round(write_s, 3),
        "floor_s": round(floor_s + write_s, 3),
        "ratio": round(publish_s / (floor_s + write_s), 2),
        "round_ratios": [
            round(p / (f + w), 2) for f, w, p in zip(floors, writes, publishes, strict=True)
        ],
        "target_ratio": 1.3,
        "snapshots_s": round(snapshots_s, 3),
        "snapshots_ratio": round(snapshots_s / floor_s, 2),
        "reports_s": round(statistics.median(reports), 3),
    }


def _one_query(settings: Settings, window) -> float:
    """ALL_AGGREGATES on a warm connection (its second run), as the floor was timed before.

    The connection is closed before anything else runs: DuckDB lends an open database's
    instance, buffer pool included, to every connection of the process to the same file, so
    publishes would not open the warehouse cold as a run's do.
    """
    parameters = {"first": window.first_day, "last": window.last_day}
    with read_only(settings.root.warehouse) as connection:
        connection.execute(ALL_AGGREGATES, parameters).fetchall()
        started = time.perf_counter()
        connection.execute(ALL_AGGREGATES, parameters).fetchall()
        return time.perf_counter() - started


def _published_files(settings: Settings, ids: list[str]) -> dict[Path, int]:
    """Every file a publish of ``ids`` writes (snapshots, manifests, pages, its run records),
    relative to the data root, with its size."""
    root = settings.root.snapshots.parent
    files = [
        path
        for workspace_id in ids
        for path in (settings.root.snapshots / workspace_id).rglob("*")
        if path.is_file()
    ]
    files += [runs.step_path(settings.root, "bench", "publish", w) for w in ids]
    return {path.relative_to(root): path.stat().st_size for path in files}


def _write_plain(folder: Path, files: dict[Path, int]) -> float:
    """Write ``files``' sizes under ``folder`` with the package's atomic write: the floor of
    putting the published bytes on disk."""
    payload = b"x" * max(files.values())
    started = time.perf_counter()
    for relative, size in files.items():
        write_atomic(folder / relative, payload[:size])
    return time.perf_counter() - started


def _snapshots_and_manifests(
    connection, settings: Settings, ids: list[str], window
) -> dict[tuple[str, str, str], bytes]:
    """Snapshots and manifests of every workspace from one query (no reports); returns the
    documents' bytes."""
    pairs = warehouse_pairs(connection, ids)
    covered = coverage.window_coverage(connection, pairs, window)
    fetched = {pair: (c.fetched_from, c.fetched_to) for pair, c in covered.items()}
    bodies = label_overview_bodies(connection, pairs, window)
    files = write_snapshots(settings.root.snapshots, bodies, window, fetched)
    for workspace_id in ids:
        write_manifest(
            settings.root.snapshots / workspace_id,
            workspace_id,
            published_at="2026-02-01T00:00:00Z",
            written=files,
        )
    return bodies


def _reports_alone(settings: Settings, window, bodies: dict) -> float:
    """Every workspace's label trend reports built and written from the documents' bytes."""
    by_workspace = defaultdict(dict)
    for key, body in bodies.items():
        by_workspace[key[0]][key] = body
    started = time.perf_counter()
    for workspace_id, ours in by_workspace.items():
        write_reports(settings.root.snapshots, workspace_id, channel_reports(window, ours))
    return time.perf_counter() - started


PARSE = """
import time, airflow
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=%r)
assert not bag.import_errors, bag.import_errors
print(time.perf_counter() - started)
"""


def dag_parsing(work: Path) -> dict:
    env = {
        "AIRFLOW_HOME": str(work / "airflow-parse"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PATH": "/usr/bin:/bin",
    }
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", PARSE % str(REPO / "dags")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(5)
    ]
    return {"dagbag_s": round(statistics.median(times), 3), "target_s": 0.3}
