"""Scenario 3: the client's extraction against a bare httpx page loop, and concurrency."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from bench.common import FULL, START, median_seconds
from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import generate_dataset
from dynamo_emulator.server import EmulatorProcess
from label_overview.concurrency import map_bounded
from label_overview.dynamo.signing import DynamoAuth
from label_overview.extract import Pair, extract_pair, open_client
from label_overview.settings import Secret, Settings
from label_overview.windows import Window


@contextmanager
def emulator_process(dataset: Path, *, latency_ms: int = 0) -> Iterator[str]:
    """The emulator in its own process, so it does not share a GIL with the client measured;
    yields its API's base URL. Loading a million messages takes it a while."""
    with EmulatorProcess(dataset, latency_ms=latency_ms, startup_timeout_s=600) as emulator:
        yield emulator.base_url


def _settings(base_url: str, dataset: Dataset, home: Path) -> Settings:
    key = dataset.api_keys[0]
    return Settings(
        api_base_url=base_url,
        api_key=key["key"],
        api_secret=Secret(key["secret"]),
        home=home,
        mode="messages",
    )


def bare_loop(
    base_url: str, dataset: Dataset, pair: Pair, window: Window, parse=httpx.Response.json
) -> int:
    """Fetch every page and parse its JSON (httpx's own parser unless told): no checks, no tie
    handling, no writes (the client's extract lands Parquet partitions)."""
    key = dataset.api_keys[0]
    params = {
        "workspaceId": pair.workspace_id,
        "mediumId": pair.channel_id,
        "from": str(window.first_day),
        "to": str(window.last_day),
        "limit": "500",
    }
    count = 0
    with httpx.Client(
        base_url=base_url + "/", auth=DynamoAuth(key["key"], key["secret"]), timeout=60
    ) as http:
        while True:
            page = parse(http.get("vip-messages", params=params))
            count += len(page["items"])
            if not page["mayHaveMore"]:
                return count
            params["before"] = page["nextCursor"]


def extraction_overhead(work: Path) -> dict:
    per_day = 32_300 if FULL else 1_600  # one pair, 31 days: about 1M (full) or 50k messages
    dataset_dir = work / f"extract-{per_day}"
    if not (dataset_dir / "messages.jsonl").exists():
        generate_dataset(
            dataset_dir,
            seed=5,
            start=START,
            days=31,
            workspaces=1,
            channels_per_workspace=1,
            messages_per_day=per_day,
        )
    dataset = Dataset.load_metadata(dataset_dir)
    workspace = dataset.vip_workspace_ids()[0]
    pair = Pair(workspace, dataset.channels_of(workspace)[0]["id"])
    window = Window(START, START + dt.timedelta(days=30))
    with emulator_process(dataset_dir) as base_url:
        settings = _settings(base_url, dataset, work / "extract-home")

        def ours() -> None:
            with open_client(settings) as client:
                extract_pair(client, settings, pair, [window], run_id="bench")

        runs = {
            "bare": lambda: bare_loop(base_url, dataset, pair, window),
            "client": ours,
            # The client parses with orjson: the same bare loop with orjson, for comparison.
            "bare_orjson": lambda: bare_loop(
                base_url, dataset, pair, window, lambda r: orjson.loads(r.content)
            ),
        }
        # Interleaved rounds, so a slower minute of the shared machine hits all three alike.
        times = {name: [] for name in runs}
        for _ in range(3):
            for name, run in runs.items():
                times[name].append(median_seconds(run, 1))
        bare, client, bare_orjson = (statistics.median(times[name]) for name in runs)
        messages = bare_loop(base_url, dataset, pair, window)
    return {
        "messages": messages,
        "client_s": round(client, 2),
        "bare_httpx_s": round(bare, 2),
        "ratio": round(client / bare, 2),
        "target_ratio": 1.2,
        "bare_httpx_orjson_s": round(bare_orjson, 2),
        "ratio_to_orjson_loop": round(client / bare_orjson, 2),
    }


def concurrency_speedup(work: Path) -> dict:
    dataset_dir = work / "concurrency"
    if not (dataset_dir / "messages.jsonl").exists():
        generate_dataset(
            dataset_dir,
            seed=6,
            start=START,
            days=7,
            workspaces=4,
            channels_per_workspace=2,
            messages_per_day=120,
        )
    dataset = Dataset.load_metadata(dataset_dir)
    pairs = sorted(
        Pair(w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)
    )[:8]
    window = Window(START, START + dt.timedelta(days=6))
    seconds = {}
    with emulator_process(dataset_dir, latency_ms=50) as base_url:
        settings = _settings(base_url, dataset, work / "concurrency-home").with_changes(
            page_size=100
        )
        for workers in (1, 8):
            with open_client(settings) as client:
                started = time.perf_counter()
                outcomes = map_bounded(
                    lambda p: extract_pair(client, settings, p, [window], run_id="bench"),
                    pairs,
                    workers,
                )
                seconds[workers] = time.perf_counter() - started
            assert all(o.error is None for o in outcomes)
    return {
        "pairs": len(pairs),
        "latency_ms": 50,
        "concurrency_1_s": round(seconds[1], 2),
        "concurrency_8_s": round(seconds[8], 2),
        "speedup": round(seconds[1] / seconds[8], 2),
        "target_speedup": 5.0,
    }
