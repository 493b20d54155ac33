"""Scenarios 1 and 2: the dbt build against a hand-written DuckDB script, and incremental cost
against the history's length."""

from __future__ import annotations

import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import FULL, START, land_generated, landed_bytes
from label_overview import landing

HAND_SQL = """
set threads = 2; set memory_limit = '1536MB'; set preserve_insertion_order = false;
set enable_progress_bar = false;
create table messages as
select workspace_id, medium_id, day, date_trunc('week', day)::date as week_start,
       "conversationId" as conversation_id,
       list_distinct(list_concat(coalesce(labels, []), coalesce("customLabelIds", []))) as labels
from {reader};
create table labeled as select * exclude (labels), unnest(labels) as label from messages;
create table label_counts_daily as select workspace_id, medium_id, day, label, count(*) as n,
    count(distinct conversation_id) as conversations from labeled group by all;
create table label_counts_weekly as select workspace_id, medium_id, week_start, label,
    count(*) as n, count(distinct conversation_id) as conversations from labeled group by all;
create table activity_daily as select workspace_id, medium_id, day, count(*) as n,
    count(distinct conversation_id) as conversations from messages group by all;
create table activity_weekly as select workspace_id, medium_id, week_start, count(*) as n,
    count(distinct conversation_id) as conversations from messages group by all;
"""

# The landing's message partitions as the floor's script reads them: columnar (this release's)
# or JSON lines (the landing before it, kept as the bench's second figure).
_HIVE = (
    "hive_partitioning = true, hive_types = {workspace_id: VARCHAR, medium_id: VARCHAR, day: DATE}"
)
READERS = {
    "parquet": f"read_parquet('{{landing}}/vip_messages/*/*/*/messages.parquet', {_HIVE})",
    "jsonl": (
        "read_json('{landing}/vip_messages/*/*/*/messages.jsonl', format = 'newline_delimited',"
        " columns = {\"timestamp\": 'BIGINT', \"conversationId\": 'VARCHAR',"
        " labels: 'VARCHAR[]', \"customLabelIds\": 'VARCHAR[]'}, " + _HIVE + ")"
    ),
}

# Runs in a child so its peak memory (and dbt's, its own child) can be read alone.
MEASURED_BUILD = """
import json, resource, sys, time
from pathlib import Path
from label_overview.settings import Settings
from label_overview.transform import dbt_build
from label_overview.windows import Window
home, first, last = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
window = Window.parse(first, last) if first else None
started = time.perf_counter()
summary = dbt_build(Settings(home=home), window)
dbt = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "dbt_elapsed": summary.seconds,
                  "cpu_s": dbt.ru_utime + dbt.ru_stime, "peak_mib": dbt.ru_maxrss / 1024,
                  "models": summary.models, "tests": summary.tests_passed}))
"""


def measured_build(home: Path, window: tuple[str, str] | None = None) -> dict:
    first, last = window or ("", "")
    out = subprocess.run(
        [sys.executable, "-c", MEASURED_BUILD, str(home), first, last],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def hand_written(home: Path, landing_dir: Path, landing_format: str) -> tuple[float, float]:
    """Seconds and CPU seconds of the floor's script on ``landing_dir``."""
    database = home / "hand.duckdb"
    database.unlink(missing_ok=True)
    reader = READERS[landing_format].replace("{landing}", str(landing_dir))
    script = HAND_SQL.format(reader=reader)
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(sys.argv[2])"
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(database), script], check=True)
    return time.perf_counter() - started, _children_cpu_s() - cpu_before


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def transform_at_scale(work: Path) -> dict:
    """Scenario 1: every mart from landed files, against the hand-written floor on the same
    columnar landing (and, beside it, the same script on the JSONL landing of before)."""
    workspaces, channels, per_day = (6, 4, 13_500) if FULL else (2, 2, 800)
    home = work / "transform"
    jsonl_landing = work / "transform-jsonl" / "landing"
    messages = land_generated(
        work,
        home,
        days=31,
        workspaces=workspaces,
        channels=channels,
        per_day=per_day,
        jsonl_twin=jsonl_landing,
    )
    # Interleaved rounds, so a slower minute of the shared machine hits all alike.
    builds, floors, floor_cpus, jsonl_floors = [], [], [], []
    for _ in range(3):
        (home / "warehouse.duckdb").unlink(missing_ok=True)
        builds.append(measured_build(home))
        seconds, cpu_s = hand_written(home, home / "landing", "parquet")
        floors.append(seconds)
        floor_cpus.append(cpu_s)
        jsonl_floors.append(hand_written(home, jsonl_landing, "jsonl")[0])
    dbt_seconds = statistics.median(b["seconds"] for b in builds)
    floor_seconds = statistics.median(floors)
    # CPU seconds, beside the target's wall seconds: on a busy machine they say how much of a
    # ratio is work and how much is waiting for a core.
    dbt_cpu_s = statistics.median(b["cpu_s"] for b in builds)
    floor_cpu_s = statistics.median(floor_cpus)
    parquet_bytes = landed_bytes(home / "landing")
    jsonl_bytes = landed_bytes(jsonl_landing, landing.JSONL_MESSAGES_FILE)
    return {
        "messages": messages,
        "dbt_build_s": round(dbt_seconds, 2),
        # dbt's own run time, without its start-up and the analysts' read copy.
        "dbt_elapsed_s": round(statistics.median(b["dbt_elapsed"] for b in builds), 2),
        "hand_sql_s": round(floor_seconds, 2),
        "hand_sql_jsonl_s": round(statistics.median(jsonl_floors), 2),
        "rounds_s": [
            [round(b["seconds"], 1), round(f, 1), round(j, 1)]
            for b, f, j in zip(builds, floors, jsonl_floors, strict=True)
        ],
        "ratio": round(dbt_seconds / floor_seconds, 2),
        "target_ratio": 1.5,
        "dbt_cpu_s": round(dbt_cpu_s, 1),
        "hand_sql_cpu_s": round(floor_cpu_s, 1),
        "cpu_ratio": round(dbt_cpu_s / floor_cpu_s, 2),
        "messages_per_s": round(messages / dbt_seconds),
        "peak_mib": round(max(b["peak_mib"] for b in builds)),
        "target_peak_mib": 2048,
        "bytes_per_message": round(parquet_bytes / messages, 1),
        "target_bytes_per_message": 25,
        "jsonl_bytes_per_message": round(jsonl_bytes / messages, 1),
        "models": builds[0]["models"],
        "tests": builds[0]["tests"],
    }


def incremental_cost(work: Path) -> dict:
    """Scenario 2: a daily run (one new day + 2 days of lookback) on long and short history."""
    per_day = 2_000 if FULL else 300
    results = {}
    for days in (7, 365 if FULL else 120):
        home = work / f"history-{days}"
        start = START
        land_generated(
            work, home, days=days, workspaces=2, channels=2, per_day=per_day, start=start
        )
        (home / "warehouse.duckdb").unlink(missing_ok=True)
        measured_build(home)
        last = start + dt.timedelta(days=days - 1)
        window = (str(last - dt.timedelta(days=2)), str(last))
        runs = sorted(measured_build(home, window)["seconds"] for _ in range(3))
        results[days] = runs[1]
    short, long = sorted(results)
    return {
        "history_days": [short, long],
        "daily_run_s": [round(results[short], 2), round(results[long], 2)],
        "ratio": round(results[long] / results[short], 2),
        "target_ratio": 1.1,
    }
