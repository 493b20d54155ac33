"""Scenario 7: a full rebuild whose landing lives in an S3 bucket (SeaweedFS on loopback), as a
new writer host makes it: pull the whole landing into its empty data root, then build; beside
the same build on the local landing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import FULL, land_generated
from bench.transform import measured_build
from label_overview.settings import Secret, Settings
from label_overview.storage import Storage
from tests.object_storage import BUCKET, running_s3


def rebuild_from_object_storage(work: Path) -> dict:
    days, workspaces, channels, per_day = (90, 6, 4, 2_000) if FULL else (31, 2, 2, 300)
    home = work / "storage-local"
    messages = land_generated(
        work, home, days=days, workspaces=workspaces, channels=channels, per_day=per_day
    )
    (home / "warehouse.duckdb").unlink(missing_ok=True)
    local = measured_build(home)
    shutil.rmtree(work / "s3", ignore_errors=True)  # an empty bucket each time
    with running_s3(work / "s3") as s3:
        settings = Settings(
            home=home,
            storage_url=f"s3://{BUCKET}/bench",
            storage_endpoint_url=s3.endpoint_url,
            storage_key=s3.key,
            storage_secret=Secret(s3.secret),
        )
        storage = Storage.of(settings)
        started = time.perf_counter()
        objects = storage.push(home, "landing")
        push_s = time.perf_counter() - started
        # Nothing changed: the cost of a sync that moves nothing (one listing, local digests).
        started = time.perf_counter()
        storage.push(home, "landing")
        noop_push_s = time.perf_counter() - started

        mirror = work / "storage-new-writer"
        shutil.rmtree(mirror, ignore_errors=True)
        started = time.perf_counter()
        pulled = storage.pull(mirror, "landing")
        pull_s = time.perf_counter() - started
        remote = measured_build(mirror)
    from_bucket_s = pull_s + remote["seconds"]
    return {
        "messages": messages,
        "objects": objects,
        "pulled": pulled,
        "push_s": round(push_s, 2),
        "noop_push_s": round(noop_push_s, 2),
        "pull_s": round(pull_s, 2),
        "pull_ms_per_object": round(1000 * pull_s / pulled, 1),
        "local_build_s": round(local["seconds"], 2),
        "bucket_build_s": round(remote["seconds"], 2),
        "rebuild_from_bucket_s": round(from_bucket_s, 2),
        "bucket_over_local": round(from_bucket_s / local["seconds"], 2),
    }
