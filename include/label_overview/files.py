"""File helpers every writer of the data root shares: ids as folder names, atomic writes, and
the host's cache folder."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Also what DuckDB checks before it names a Parquet partition folder after an id.
SAFE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
_SAFE_ID = re.compile(SAFE_ID_PATTERN)


class UnsafeIdError(ValueError):
    """An id that cannot name a folder: the landing's partitions and the exports' folders."""


def safe_id(value: object, *, what: str) -> str:
    """Return ``value`` if it can name a folder of its own, else raise UnsafeIdError."""
    if not isinstance(value, str) or not _SAFE_ID.fullmatch(value) or ".." in value:
        raise UnsafeIdError(
            f"{what} '{shown_id(value)}' is not a safe identifier for a landing path"
        )
    return value


def shown_id(value: object, limit: int = 80) -> str:
    """An id as a message shows it: control characters escaped, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    if not text.isprintable():
        text = repr(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path``: readers see the old file or the new one whole, not a part."""
    with atomic_path(path) as temp:
        temp.write_bytes(payload)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temp path to write; on a clean exit it replaces ``path`` whole, else it is removed.

    The temp file sits in the same directory (same filesystem, so the rename is atomic) under a
    hidden name that the dbt sources' globs never match. No fsync: the rename protects against
    a killed process, which is what a rerun must recover from; after a machine crash the run is
    rerun anyway, and syncing each of thousands of small files would dominate publishing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temp_name)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    """The host's cache folder: the user's ($XDG_CACHE_HOME, else ~/.cache).

    What it holds depends on installed packages and the dbt project, never on data (the
    report's JavaScript bundle, dbt's parse), so every data root of a host shares it; one of
    each data root's own would be made again for every new one.
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "label-overview"
