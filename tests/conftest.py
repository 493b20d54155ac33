"""Fixtures for pipeline tests: a generated dataset served by the emulator, and data roots."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import generate_dataset
from dynamo_emulator.server import RunningEmulator, running_emulator

DATA_START = dt.date(2026, 6, 1)
DATA_DAYS = 21

# Every dbt build the tests start (CLI runs, DAG runs, the topology's workers) works on a few
# hundred messages, where DuckDB's second thread only adds scheduling: one thread took 1.5 of
# the ~13.5 CPU-seconds of such a build, and the suite is CPU-bound on its 2 cores. The
# setting's default, 2, is the one the bench measures at scale.
os.environ.setdefault("LABEL_OVERVIEW_DUCKDB_THREADS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first (a stable sort keeps the rest in order): started last, one of them
    would leave a worker alone for minutes at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dataset")
    generate_dataset(
        directory,
        seed=11,
        start=DATA_START,
        days=DATA_DAYS,
        workspaces=2,
        channels_per_workspace=2,
        messages_per_day=40,
    )
    return directory


@pytest.fixture(scope="session")
def dataset(dataset_dir: Path) -> Dataset:
    return Dataset.load(dataset_dir)


# The window of the data root that several tests only read (``first_week_home``).
FIRST_WEEK = ("--from", str(DATA_START), "--to", str(DATA_START + dt.timedelta(days=6)))


@pytest.fixture(scope="session")
def first_week_home(tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path, dataset) -> Path:
    """A data root after one clean ``label-overview run`` of FIRST_WEEK, made once per worker
    for the tests that only read it (each run costs ~10 s, most of it dbt's). Tests that
    write must make their own."""
    home = tmp_path_factory.mktemp("first-week")
    with running_emulator(dataset_dir) as running:
        result = cli(pipeline_env(running, dataset, home), "run", *FIRST_WEEK)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def emulator(dataset_dir: Path) -> Iterator:
    """A fresh emulator per test: control-surface changes never leak into other tests."""
    with running_emulator(dataset_dir, retry_after_s=0) as running:
        yield running


@pytest.fixture
def emulator_for() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators on datasets a test builds: ``emulator_for(data, **running_emulator
    options)``; every one started stops when the test ends."""
    with ExitStack() as stack:
        yield lambda data, **options: stack.enter_context(running_emulator(data, **options))


def pipeline_env(emulator, dataset: Dataset, home: Path) -> dict[str, str]:
    """The environment a user sets for the CLI against the emulator."""
    key = dataset.api_keys[0]
    return {
        **os.environ,
        "DYNAMO_API_BASE_URL": emulator.base_url,
        "DYNAMO_API_KEY": key["key"],
        "DYNAMO_API_SECRET": key["secret"],
        "LABEL_OVERVIEW_HOME": str(home),
    }


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``label-overview ARGS`` as a user would, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "label_overview.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def marts_rows(home: Path, database: str = "warehouse.duckdb") -> dict[str, list[tuple]]:
    """Every mart's rows, sorted: equal dicts mean equal marts. The coverage ledger's fetch
    times and run ids are left out: they say when and by which run, and differ by run; so is
    the run history (``fct_pipeline_runs``, the one view: it reads the run records)."""
    import duckdb

    connection = duckdb.connect(str(home / database), read_only=True)
    try:
        columns = connection.execute(
            """select table_name, string_agg(column_name, ', ' order by ordinal_position)
               from information_schema.columns
               where table_schema = 'marts'
                   and table_name != 'fct_pipeline_runs'
                   and not suffix(column_name, '_fetched_at')
                   and not suffix(column_name, '_run_id')
               group by table_name
               order by table_name"""
        ).fetchall()
        return {
            name: connection.execute(f"select {names} from marts.{name} order by all").fetchall()
            for name, names in columns
        }
    finally:
        connection.close()


def exported_files(home: Path) -> dict[str, bytes]:
    """Every published file's bytes by its path under exports/."""
    root = home / "exports"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def published_snapshots(home: Path) -> dict[str, bytes]:
    """Published snapshots without the manifests, whose publication times differ by run."""
    return {p: b for p, b in exported_files(home).items() if not p.endswith("manifest.json")}


def api_answers(emulator, dataset: Dataset, last_day: dt.date) -> dict[str, bytes]:
    """The API's own GET /label-overview bytes for every VIP pair's trailing 31-day window
    ending on ``last_day``, by the path its snapshot is published at under exports/."""
    from label_overview.dynamo.client import DynamoClient
    from label_overview.windows import trailing_window

    window = trailing_window(last_day)
    key = dataset.api_keys[0]
    answers = {}
    with DynamoClient(emulator.base_url, key["key"], key["secret"]) as client:
        for workspace_id in dataset.vip_workspace_ids():
            for channel in dataset.channels_of(workspace_id):
                for group_by in ("day", "week"):
                    folder = f"{workspace_id}/{channel['id']}/{group_by}"
                    answer = client.label_overview(workspace_id, channel["id"], window, group_by)
                    answers[f"{folder}/{window.first_day}_{last_day}.json"] = answer.body
    return answers


# A busier dataset for the quiet-channel tests: ~100 messages a day per channel, so a normal day
# is never near 20 % of the median.
BUSY_DAYS = 21
QUIET_DAY = DATA_START + dt.timedelta(days=15)


@pytest.fixture(scope="session")
def busy_dataset(tmp_path_factory) -> Path:
    """Enough messages a day per channel (~100) that a normal day is never near 20 % of the
    median."""
    directory = tmp_path_factory.mktemp("busy")
    generate_dataset(
        directory,
        seed=5,
        start=DATA_START,
        days=BUSY_DAYS,
        workspaces=1,
        channels_per_workspace=2,
        messages_per_day=400,
    )
    return directory


def day_of(message: dict) -> dt.date:
    return dt.datetime.fromtimestamp(message["timestamp"] / 1000, dt.UTC).date()


def with_quiet_day(source: Path, target: Path, pair: tuple[str, str]) -> None:
    """A copy of ``source`` in which ``pair`` keeps one message in twenty on QUIET_DAY."""
    target.mkdir()
    for path in source.iterdir():
        if path.name != "messages.jsonl":
            (target / path.name).write_bytes(path.read_bytes())
    kept, dropped = [], 0
    for line in (source / "messages.jsonl").read_text().splitlines():
        message = json.loads(line)
        if (message["workspaceId"], message["mediumId"]) == pair and day_of(message) == QUIET_DAY:
            dropped += 1
            if dropped % 20:
                continue
        kept.append(line)
    (target / "messages.jsonl").write_text("\n".join(kept) + "\n")
