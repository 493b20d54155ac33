"""dbt's parse of the project, kept once per host so a new data root's first build starts
from it.

dbt keeps its parse (``partial_parse.msgpack``) in its target folder, which is the data
root's, so every new data root (a new deployment, every test's) parsed the whole project
first: 4.3 s of a 14 s first build here. The parse depends on the project's files, the
versions of dbt and its adapter, the vars and the env vars the project reads, none of them on
the data root (profiles.yml and the macros name the data root's files relative to it), so one
copy per project serves every data root of a host. dbt checks the copy it starts from (the
files' checksums, vars, profile, env vars, its version) and parses again whatever differs: a
copy that no longer fits costs only that parse, and a cache that cannot be used costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from importlib.metadata import version
from pathlib import Path

from label_overview.files import cache_dir, write_atomic

PARSE_FILE = "partial_parse.msgpack"
# dbt's own output beside the sources, when it was run by hand in the project folder.
_NOT_SOURCES = ("target", "logs", "dbt_packages")


def seed(target: Path, project_dir: Path) -> None:
    """Give a target folder that has no parse yet the host's copy for ``project_dir``."""
    if (target / PARSE_FILE).exists():
        return
    with contextlib.suppress(OSError):
        write_atomic(target / PARSE_FILE, _kept(project_dir).read_bytes())


def keep(target: Path, project_dir: Path) -> None:
    """Keep a target folder's parse as the host's copy for ``project_dir``, if it has none."""
    kept = _kept(project_dir)
    if kept.exists():
        return
    with contextlib.suppress(OSError):
        write_atomic(kept, (target / PARSE_FILE).read_bytes())


def _kept(project_dir: Path) -> Path:
    return cache_dir() / f"dbt-parse-{_project_digest(project_dir)}.msgpack"


def _project_digest(project_dir: Path) -> str:
    """Names the project's content where it lives and the dbt that parses it; a project
    changed in place gets a copy of its own instead of replacing its previous one."""
    digest = hashlib.sha256()
    for name in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{name}=={version(name)}\0".encode())
    digest.update(f"{project_dir.resolve()}\0".encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and relative.parts[0] not in _NOT_SOURCES:
            digest.update(f"{relative.as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
