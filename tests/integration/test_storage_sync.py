"""storage.py against a real S3 server (SeaweedFS on loopback): what a pull and a push move,
in which order, what they delete, and how they fail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from label_overview.settings import Secret, Settings
from label_overview.storage import Storage, StorageError, Sync, scratch, synced
from tests.object_storage import BUCKET, S3Server, running_s3


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> Iterator[S3Server]:
    with running_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


class Recording:
    """The real filesystem, with the keys it was asked to upload, batch by batch."""

    def __init__(self, fs) -> None:
        self.fs, self.uploaded = fs, []

    def put(self, local: list[str], keys: list[str], **options) -> None:
        self.uploaded.append(keys)
        self.fs.put(local, keys, **options)

    def __getattr__(self, name: str):
        return getattr(self.fs, name)


def settings_for(s3: S3Server, home: Path, prefix: str) -> Settings:
    return Settings(
        home=home,
        storage_url=f"s3://{BUCKET}/{prefix}",
        storage_endpoint_url=s3.endpoint_url,
        storage_key=s3.key,
        storage_secret=Secret(s3.secret),
    )


def write(home: Path, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(body)


def test_push_uploads_what_changed_records_last_and_deletes_only_owned_parts(s3, tmp_path):
    settings = settings_for(s3, tmp_path / "writer", "push")
    storage = Storage.of(settings)
    recording = Recording(storage.fs)
    storage = replace(storage, fs=recording)
    write(
        settings.home,
        {
            "exports/W/manifest.json": b"{}",
            "exports/W/a.json": b"a",
            "exports/W/b/manifest.json": b"{}",
            "exports/W/b/c.json": b"c",
            "exports/W/.a.json.123.tmp": b"half",
            "landing/t/day=1/_landed.json": b"r",
            "landing/t/day=1/messages.parquet": b"m",
        },
    )
    assert storage.push(settings.home, "exports/W", delete=True) == 4
    assert storage.push(settings.home, "landing") == 2
    top = f"{BUCKET}/push"
    # Records and manifests in a batch after the files they name.
    assert recording.uploaded == [
        [f"{top}/exports/W/a.json", f"{top}/exports/W/b/c.json"],
        [f"{top}/exports/W/b/manifest.json", f"{top}/exports/W/manifest.json"],
        [f"{top}/landing/t/day=1/messages.parquet"],
        [f"{top}/landing/t/day=1/_landed.json"],
    ]

    # Unchanged files are not sent again; a changed one is, and a file gone locally goes from
    # an owned part only.
    recording.uploaded.clear()
    (settings.home / "exports/W/a.json").write_bytes(b"A")
    (settings.home / "exports/W/b/c.json").unlink()
    (settings.home / "landing/t/day=1/_landed.json").unlink()
    assert storage.push(settings.home, "exports/W", delete=True) == 1
    assert storage.push(settings.home, "landing") == 0
    assert recording.uploaded == [[f"{top}/exports/W/a.json"]]
    assert s3.objects("push") == {
        "exports/W/a.json": b"A",
        "exports/W/b/manifest.json": b"{}",
        "exports/W/manifest.json": b"{}",
        "landing/t/day=1/_landed.json": b"r",
        "landing/t/day=1/messages.parquet": b"m",
    }


def test_pull_fetches_what_the_mirror_lacks_and_keeps_its_own_files(s3, tmp_path):
    source = settings_for(s3, tmp_path / "source", "pull")
    write(source.home, {"landing/a.json": b"1", "landing/b/c.json": b"2", "read.duckdb": b"db"})
    storage = Storage.of(source)
    storage.push(source.home, "landing")
    storage.push(source.home, "read.duckdb")

    mirror = tmp_path / "mirror"
    write(mirror, {"landing/a.json": b"old", "landing/own.json": b"mine"})
    assert storage.pull(mirror, "landing") == 2
    assert storage.pull(mirror, "landing") == 0
    assert storage.pull(mirror, "read.duckdb") == 1
    assert storage.pull(mirror, "exports") == 0
    # A part's only object stays when the local file is gone (a build failed before its copy).
    (source.home / "read.duckdb").unlink()
    storage.push(source.home, "read.duckdb", delete=True)
    assert s3.objects("pull")["read.duckdb"] == b"db"
    found = {p.relative_to(mirror).as_posix(): p.read_bytes() for p in mirror.rglob("*.*")}
    assert found == {
        "landing/a.json": b"1",
        "landing/b/c.json": b"2",
        "landing/own.json": b"mine",
        "read.duckdb": b"db",
    }


def test_a_step_pushes_its_record_when_it_fails_and_an_extract_leaves_no_scratch(s3, tmp_path):
    settings = settings_for(s3, tmp_path / "writer", "steps")
    with pytest.raises(RuntimeError, match="^the step failed$"):
        with synced(settings, Sync(push=["landing/runs"])):
            write(settings.home, {"landing/runs/r/build.json": b'{"error": "x"}'})
            raise RuntimeError("the step failed")
    with scratch(settings, Sync(push=["landing"])) as scratch_settings:
        assert scratch_settings.home != settings.home
        write(scratch_settings.home, {"landing/p/day=1/messages.parquet": b"m"})
    assert not scratch_settings.home.exists()
    assert s3.objects("steps") == {
        "landing/p/day=1/messages.parquet": b"m",
        "landing/runs/r/build.json": b'{"error": "x"}',
    }


def test_an_unreachable_storage_is_one_line_naming_it_and_never_its_keys(s3, tmp_path):
    settings = settings_for(s3, tmp_path / "writer", "down")
    down = settings.with_changes(storage_endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StorageError) as raised:
        Storage.of(down).pull(settings.home, "landing")
    message = str(raised.value)
    assert message.startswith(
        f"storage s3://{BUCKET}/down: cannot read landing: Could not connect to the endpoint"
        ' URL: "http://127.0.0.1:9/'
    )
    assert "\n" not in message and s3.key not in message and s3.secret not in message
    wrong = settings.with_changes(storage_key="nobody")
    with pytest.raises(StorageError, match=f"^storage s3://{BUCKET}/down: cannot write landing"):
        write(settings.home, {"landing/a.json": b"1"})
        Storage.of(wrong).push(settings.home, "landing")
