"""The dbt child that ``transform`` starts: ``python -m label_overview.dbt_process ARGS`` runs
``dbt ARGS`` as the ``dbt`` command does, with its output and exit codes (0 success, 1 a node
failed, 2 dbt could not run), and ends without the interpreter's teardown.

dbt builds a large object graph (the manifest, its macros' templates), and freeing it all at
exit took 0.7 s of every ~9 s dbt process (strace: the last artifact written, then 0.7 s to
``exit_group``). Nothing is left to do by then: the warehouse is checkpointed and closed, the
artifacts and the log are written; so the exit handlers run (multiprocessing's unlink dbt's
semaphores) and the process exits at once.
"""

from __future__ import annotations

import atexit
import os
import sys


def main(arguments: list[str]) -> int:
    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(arguments)
    if result.success:
        return 0
    if result.exception is None:
        return 1
    # dbt has logged every other error; a refused command line, the dbt command prints.
    if isinstance(result.exception, DbtUsageException):
        print(f"Error: {result.exception}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
