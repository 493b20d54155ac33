"""The data root's shared parts in S3-compatible object storage, for workers on many hosts.

With ``LABEL_OVERVIEW_STORAGE_URL`` set (``s3://bucket/prefix``), the bucket holds what every
host must reach, at the same relative paths as a data root: the landing (with the run
history), the exports, the analysts' read copy and the Parquet marts. The warehouse stays on
the local disk of the one host that builds (the Celery queue ``duckdb``), whose data root is a
mirror of the bucket's landing and exports:

* an extract, on any worker, lands its pair in a scratch data root of its own and pushes it;
* the writer's steps (plan, build, freshness, publish, finish) pull the parts they read into
  the writer's data root, run as on one host, and push the parts they wrote.

So dbt, the coverage reads and the publication run at local disk speed, and the objects
listed per sync are one recursive listing per part. Objects are compared by size and MD5
(the ETag of a plain upload), so a sync moves only what changed and a rerun repairs an
interrupted one. A PUT replaces an object whole; within a part, ``_landed.json`` records and
manifests go last, so a reader never sees a record or manifest before the files it names.
Nothing is ever deleted from the bucket except below parts that one writer owns whole
(``push(..., delete=True)``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from label_overview import landing, runs
from label_overview.files import UnsafeIdError, atomic_path, safe_id
from label_overview.layout import MANIFEST_NAME, DataRoot
from label_overview.settings import Settings

# Written after the files they describe.
_WRITTEN_LAST = (landing.LANDED_FILE, MANIFEST_NAME)
# Objects moved at once: a sync's cost is requests, not bytes. On loopback here (2 busy
# cores) an object costs ~12 ms either way; over a network, requests' latencies overlap.
_BATCH = {"batch_size": 16}


class StorageError(RuntimeError):
    """The object storage could not be read or written; a rerun repairs what was left."""


@dataclass(frozen=True)
class Storage:
    """The bucket and prefix that mirror a data root, and the filesystem that reaches them."""

    url: str
    fs: Any

    @classmethod
    def of(cls, settings: Settings) -> Storage | None:
        """The settings' storage, or None where the data root is local only (the default)."""
        if not settings.storage_url:
            return None
        import s3fs

        client: dict[str, Any] = {}
        if settings.storage_endpoint_url:
            client["endpoint_url"] = settings.storage_endpoint_url
        if settings.storage_key:
            client.update(key=settings.storage_key, secret=settings.storage_secret.reveal())
        fs = s3fs.S3FileSystem(
            **client,
            config_kwargs={
                "connect_timeout": 5,
                "read_timeout": 60,
                "retries": {"max_attempts": 2},
            },
            use_listings_cache=False,
            skip_instance_cache=True,
        )
        return cls(settings.storage_url.rstrip("/"), fs)

    def pull(self, home: Path, part: str) -> int:
        """Download the objects below ``part`` that ``home`` lacks or holds otherwise; returns
        how many. Local files the bucket lacks stay (they are the writer's own)."""
        with self._reaching("read", part):
            wanted = {}  # object key: local path
            for relative, info in sorted(self._objects(part).items()):
                path = home / part / relative if relative else home / part
                if not _same(path, info):
                    wanted[info["name"]] = path
            with contextlib.ExitStack() as temps:
                # Each into a temp file beside its place, renamed when every one has arrived.
                places = [temps.enter_context(atomic_path(path)) for path in wanted.values()]
                if wanted:
                    self.fs.get(list(wanted), [str(place) for place in places], **_BATCH)
        return len(wanted)

    def push(self, home: Path, part: str, *, delete: bool = False) -> int:
        """Upload the files below ``part`` that the bucket lacks or holds otherwise, records and
        manifests after the rest; with ``delete``, then remove the objects below the folder
        ``part`` that ``home`` lacks (never a part's only object: a build that failed before
        writing its read copy leaves the last one). Returns how many files were uploaded."""
        local = _files(home / part)
        with self._reaching("write", part):
            remote = self._objects(part)
            changed = [
                relative
                for relative in sorted(local)
                if relative not in remote or not _same(local[relative], remote[relative])
            ]
            for last in (False, True):
                batch = [r for r in changed if (Path(r).name in _WRITTEN_LAST) == last]
                if batch:
                    keys = [self._key(part, relative) for relative in batch]
                    self.fs.put([str(local[r]) for r in batch], keys, **_BATCH)
            stale = [remote[relative]["name"] for relative in remote if relative not in local]
            if delete and stale and (home / part).is_dir():
                self.fs.rm(stale)
        return len(changed)

    def _objects(self, part: str) -> dict[str, dict]:
        """The objects below ``part`` (one recursive listing), by path relative to it; a part
        naming one object maps "" to it."""
        key = self._key(part)
        found = self.fs.find(key, detail=True)
        return {
            name.removeprefix(key).lstrip("/"): info
            for name, info in found.items()
            if info.get("type") != "directory"
        }

    def _key(self, part: str, relative: str = "") -> str:
        key = f"{self.url.removeprefix('s3://')}/{part}"
        return f"{key}/{relative}" if relative else key

    @contextmanager
    def _reaching(self, verb: str, part: str) -> Iterator[None]:
        """Turn whatever the storage's client raises into one StorageError line naming the
        storage and the part (never a credential: those live in the client)."""
        from botocore.exceptions import BotoCoreError

        try:
            yield
        except (OSError, ValueError, BotoCoreError) as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise StorageError(f"storage {self.url}: cannot {verb} {part}: {reason}") from None


def located(settings: Settings, path: Path) -> str:
    """Where users find a file or folder of the data root: its URL in the bucket, with a
    storage; else its path."""
    if not settings.storage_url:
        return str(path)
    [part] = _parts(settings.root, path)
    return f"{settings.storage_url.rstrip('/')}/{part}"


def _same(path: Path, info: dict) -> bool:
    """Whether the local file holds the object's bytes: same size and, where the ETag is the
    MD5 of the bytes (a plain upload's), same MD5."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size != info["size"]:
        return False
    etag = str(info.get("ETag", "")).strip('"')
    if not re.fullmatch(r"[0-9a-f]{32}", etag):
        return True  # a multipart upload's ETag is no digest of the bytes: sizes decide
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest() == etag


def _files(top: Path) -> dict[str, Path]:
    """The files below ``top`` (or ``top`` itself, as ""), following links (the Parquet
    marts' current generation) and skipping hidden names (temp files, older generations)."""
    if top.is_file():
        return {"": top}
    found = {}
    for folder, folders, names in os.walk(top, followlinks=True):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                path = Path(folder, name)
                found[path.relative_to(top).as_posix()] = path
    return found


@dataclass(frozen=True)
class Sync:
    """The parts a step reads (pulled before it) and writes (pushed after it, also when it
    failed: its run record says why); ``owned`` parts are pushed with deletes."""

    pull: Sequence[str] = ()
    push: Sequence[str] = ()
    owned: Sequence[str] = ()


@contextmanager
def synced(settings: Settings, sync: Sync) -> Iterator[None]:
    """Run a writer's step on its data root with the storage's parts pulled and pushed
    around it; does nothing where the data root is local only."""
    storage = Storage.of(settings)
    if storage is None:
        yield
        return
    for part in sync.pull:
        storage.pull(settings.home, part)
    try:
        yield
    except BaseException:
        _push_all(storage, settings.home, sync, failing=True)
        raise
    _push_all(storage, settings.home, sync, failing=False)


def _push_all(storage: Storage, home: Path, sync: Sync, *, failing: bool) -> None:
    try:
        for part in sync.push:
            storage.push(home, part)
        for part in sync.owned:
            storage.push(home, part, delete=True)
    except StorageError:
        if not failing:
            raise
        # The step's own error says more; its records reach the bucket with the next push.


@contextmanager
def scratch(settings: Settings, sync: Sync) -> Iterator[Settings]:
    """Settings for a step that keeps nothing on its host (an extract on any worker, an
    alert): with a storage, a scratch data root of its own, with the sync's parts pulled
    before the step and pushed after it, then removed; else the settings as they are."""
    storage = Storage.of(settings)
    if storage is None:
        yield settings
        return
    home = Path(tempfile.mkdtemp(prefix="label-overview-"))
    try:
        with synced(settings.with_changes(home=home), sync):
            yield settings.with_changes(home=home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# What each step reads and writes of the data root, as parts relative to it.


def _parts(root: DataRoot, *paths: Path) -> list[str]:
    return [path.relative_to(root.home).as_posix() for path in paths]


def plan_sync(root: DataRoot, run_id: str) -> Sync:
    """The plan reads the landing's partitions and replaces its listings."""
    return Sync(
        pull=_parts(root, root.landing),
        push=_parts(root, runs.run_dir(root, run_id)),
        owned=_parts(root, landing.reference_dir(root.landing)),
    )


def build_sync(root: DataRoot, run_id: str) -> Sync:
    """The build reads the landing and writes the read copy and the Parquet marts."""
    return Sync(
        pull=_parts(root, root.landing),
        push=_parts(root, runs.run_dir(root, run_id)),
        owned=_parts(root, root.read_copy, root.parquet),
    )


def freshness_sync(root: DataRoot) -> Sync:
    return Sync(pull=_parts(root, root.landing))


def publish_sync(root: DataRoot, run_id: str, workspace_id: str) -> Sync:
    """A workspace's publication rewrites its exports folder (which it reads back for its
    manifest); a workspace whose id cannot name a folder fails in the step, not here."""
    try:
        exports = _parts(root, root.snapshots / safe_id(workspace_id, what="workspace id"))
    except UnsafeIdError:
        exports = []
    return Sync(pull=exports, push=_parts(root, runs.run_dir(root, run_id)), owned=exports)


def extract_sync(root: DataRoot) -> Sync:
    """An extract writes its pair's partitions and its record."""
    return Sync(push=_parts(root, root.landing))


def run_history_sync(root: DataRoot, run_id: str | None = None, *, writes: bool = False) -> Sync:
    """One run's records (which its finish ``writes``, and its failure alert reads), or every
    run's (the lateness check reads them)."""
    records = _parts(
        root, root.landing / runs.RUNS_DIR if run_id is None else runs.run_dir(root, run_id)
    )
    return Sync(pull=records, push=records if writes else ())


def cli_run_sync(root: DataRoot) -> Sync:
    """A whole run on one host (``label-overview run``): that host is the writer."""
    return Sync(
        pull=_parts(root, root.landing, root.snapshots),
        push=_parts(root, root.landing),
        owned=_parts(
            root, landing.reference_dir(root.landing), root.snapshots, root.read_copy, root.parquet
        ),
    )
