"""The data root's shared parts in a real S3 server (SeaweedFS on loopback): a run whose
storage goes away mid-build fails with one line naming it, its rerun leaves the bucket exactly
what the embedded default publishes, and a new writer host builds the same marts from it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from tests.conftest import FIRST_WEEK, cli, marts_rows, pipeline_env, published_snapshots
from tests.object_storage import BUCKET, running_s3


def test_a_rerun_after_the_storage_stopped_mid_build_leaves_the_bucket_exact(
    emulator, dataset, first_week_home, tmp_path
):
    home = tmp_path / "writer"
    with running_s3(tmp_path / "s3") as s3:
        env = {**pipeline_env(emulator, dataset, home), **s3.env()}
        stopped = threading.Event()

        def stop_when_the_build_starts() -> None:
            # dbt creates the warehouse as its build starts; the plan and pulls are done.
            while not (home / "warehouse.duckdb").exists():
                time.sleep(0.02)
            s3.stop()
            stopped.set()

        watcher = threading.Thread(target=stop_when_the_build_starts, daemon=True)
        watcher.start()
        failed = cli(env, "run", *FIRST_WEEK)
        watcher.join(timeout=60)
        assert stopped.is_set()
        assert failed.returncode == 1
        assert failed.stdout == ""
        # The run's progress lines, then its one error line.
        [line] = [line for line in failed.stderr.splitlines() if "error" in line]
        assert failed.stderr.splitlines()[-1] == line
        assert line.startswith(
            f"label-overview run: error: storage s3://{BUCKET}/data: cannot write landing:"
            f" Could not connect to the endpoint URL: \"{s3.endpoint_url}/"
        ), line
        assert s3.key not in failed.stderr and s3.secret not in failed.stderr

        s3.start()
        rerun = cli(env, "run", *FIRST_WEEK)
        assert rerun.returncode == 0, rerun.stderr
        objects = s3.objects()

        # The writer host replaced: a new one's first run pulls the landing from the bucket.
        new_home = tmp_path / "new-writer"
        replaced = cli({**env, "LABEL_OVERVIEW_HOME": str(new_home)}, "run", *FIRST_WEEK)
        assert replaced.returncode == 0, replaced.stderr
        assert marts_rows(new_home) == marts_rows(first_week_home)

    expected = published_snapshots(first_week_home)
    assert expected
    in_bucket = {
        name.removeprefix("exports/"): body
        for name, body in objects.items()
        if name.startswith("exports/") and name.endswith(".json")
        and not name.endswith("manifest.json")
    }
    assert in_bucket == expected
    # Everything else the writer's data root shares is in the bucket, byte for byte.
    assert objects["warehouse.read.duckdb"] == (home / "warehouse.read.duckdb").read_bytes()
    for part in ("landing", "exports", "parquet"):
        local = shared_files(home, part)
        assert local and {name: objects.get(name) for name in local} == local, part
    # The storage's keys are in no file of the data root (dbt's logs and artifacts included).
    for path in home.rglob("*"):
        if path.is_file():
            assert s3.secret.encode() not in path.read_bytes(), path


def shared_files(home: Path, part: str) -> dict[str, bytes]:
    """The files of a data root's part by path, as the bucket names them: through the Parquet
    marts' links to their current generation, without hidden files."""
    found = {}
    for folder, folders, names in os.walk(home / part, followlinks=True):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                path = Path(folder, name)
                found[path.relative_to(home).as_posix()] = path.read_bytes()
    return found
