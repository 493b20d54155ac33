"""The dbt child that ``transform`` starts: ``python -m label_overview.dbt_process ARGS`` runs
``dbt ARGS`` as the ``dbt`` command does, with its output and exit codes (0 success, 1 a node
failed, 2 dbt could not run), and ends without the interpreter's teardown.

dbt builds a large object graph (the manifest, its macros' templates), and freeing it all at
exit took 0.7 s of every ~9 s dbt process (strace: the last artifact written, then 0.7 s to
``exit_group``). Nothing is left to do by then: the warehouse is checkpointed and closed, the
artifacts and the log are written; so the exit handlers run (multiprocessing's unlink dbt's
semaphores) and the process exits at once.

``build`` and ``test`` write only the artifacts the package reads: ``run_results.json``
(``transform`` summarizes it) and ``semantic_manifest.json`` (``label-overview mf``). dbt's
own ``manifest.json``, which nothing here reads, it writes twice per command, once before the
first node and once after the last (0.25 s of a full rebuild's ~16); ``make docs`` writes the
one the docs site needs.

``build`` hands its next node to a thread only when one is free, and the node with the most
work still behind it first (``critical_path.py``): dbt hands out every node as soon as it is
ready, so the big facts' chain waited behind a second of small views.

The JSON schemas dbt validates its configuration against and the Python code of the
templates it renders are taken from the host's copy (``dbt_derived.py``) before dbt derives
them again.

dbt's modules and its parsed manifest live until the process ends, yet Python's cyclic garbage
collector walked them again and again (62 middle and 4 full passes a build). It stays off while
dbt is imported and the project parsed, which only make what lives on, and then collects only
what is made after: its time in a build fell from 0.44 s to 0.16 s, on the start's one busy
core, with the same peak memory.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from pathlib import Path

from label_overview import critical_path
from label_overview.dbt_derived import DerivedCache

_LEAN_COMMANDS = ("build", "test")
# The options the project is located by, which a parse of it takes too (transform._dbt_paths).
_PATH_OPTIONS = ("--project-dir", "--profiles-dir", "--target-path", "--log-path")


def main(arguments: list[str]) -> int:
    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import dbtRunner

    derived = DerivedCache.for_this_host()
    derived.install()
    if arguments and arguments[0] in _LEAN_COMMANDS:
        result = _run_lean(arguments)
    else:
        _collect_new_objects_only()
        result = dbtRunner().invoke(arguments)
    derived.save()
    if result.success:
        return 0
    if result.exception is None:
        return 1
    # dbt has logged every other error; a refused command line, the dbt command prints.
    if isinstance(result.exception, DbtUsageException):
        print(f"Error: {result.exception}", file=sys.stderr)
    return 2


def _run_lean(arguments: list[str]):
    """``dbt ARGUMENTS`` on a manifest parsed first, without dbt's JSON artifacts; then the
    two the package reads, as dbt would have written them."""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import write_semantic_manifest

    paths = _path_options(arguments)
    parsed = dbtRunner().invoke(["parse", "--no-write-json", *paths])
    if not isinstance(parsed.result, Manifest):
        return parsed
    _collect_new_objects_only()
    target = _target(paths)
    target.mkdir(parents=True, exist_ok=True)
    write_semantic_manifest(parsed.result, str(target))
    if arguments[0] == "build":
        critical_path.schedule(target)
    result = dbtRunner(manifest=parsed.result).invoke([*arguments, "--no-write-json"])
    if hasattr(result.result, "write"):
        result.result.write(str(target / "run_results.json"))
    return result


def _collect_new_objects_only() -> None:
    """The garbage collector back on, for the objects made from now on: those alive now (dbt's
    modules, the manifest) are moved out of its reach for good."""
    gc.freeze()
    gc.enable()


def _target(paths: list[str]) -> Path:
    return Path(dict(zip(paths[::2], paths[1::2], strict=True)).get("--target-path", "target"))


def _path_options(arguments: list[str]) -> list[str]:
    """The path options of ``arguments``, each with its value."""
    options = []
    for position, argument in enumerate(arguments[:-1]):
        if argument in _PATH_OPTIONS:
            options += [argument, arguments[position + 1]]
    return options


if __name__ == "__main__":
    gc.disable()
    code = main(sys.argv[1:])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
