"""Scenario 8: the whole pytest suite as ``make test`` runs it (two xdist workers), timed.

Its target lives here because speed targets never go in timed tests. The quick profile runs
the unit tests only, to show the harness works; their time says nothing of the suite's.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import FULL

REPOSITORY = Path(__file__).resolve().parent.parent
# pytest's last line: "==== 323 passed, 1 warning in 566.67s (0:09:26) ====".
_SUMMARY = re.compile(r"(\d+) passed")


def suite_time(work: Path) -> dict:
    """Wall seconds of the suite from the repository's root, and the CPU seconds it spent
    (every process it waited for: xdist workers, CLI runs, dbt); fails on any failed test."""
    command = [sys.executable, "-m", "pytest", "-q", f"--basetemp={work / 'pytest'}"]
    # The cache (the report test keeps its screenshot there) out of the repository.
    command += ["-o", f"cache_dir={work / 'pytest-cache'}", *([] if FULL else ["tests/unit"])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = completed.stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    if completed.returncode != 0:
        (work / "pytest.log").write_text(completed.stdout + completed.stderr)
        failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        raise RuntimeError(
            f"the test suite failed: {'; '.join(failed) or last or completed.stderr[-200:]}"
            f" (its output: {work / 'pytest.log'})"
        )
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "tests": int(_SUMMARY.search(last).group(1)),
        "suite_s": round(wall_s, 1),
        "cpu_s": round(cpu_s, 1),
        "cpu_busy": round(cpu_s / wall_s / os.cpu_count(), 2),
        "target_suite_s": 600,
    }
