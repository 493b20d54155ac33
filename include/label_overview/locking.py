"""One writer or many readers of the warehouse at a time, across processes and machines
sharing the data root (CLI runs, Airflow tasks): an advisory lock file beside the database.

DuckDB itself refuses a second process at once ("Could not set lock on file"); waiting on this
lock first turns overlapping runs into queued ones, and only a wait past the timeout fails,
with a one-line "warehouse busy" error that a rerun repairs.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from label_overview.layout import DataRoot
from label_overview.warehouse import WarehouseBusyError

POLL_S = 0.2


@contextmanager
def warehouse_lock(root: DataRoot, *, exclusive: bool, timeout_s: float) -> Iterator[None]:
    """Hold the data root's warehouse lock: exclusive to write, shared to read."""
    root.home.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with root.lock.open("a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"warehouse busy: another run has held {root.warehouse} for"
                        f" {timeout_s:.0f}s; retry when it is done"
                    ) from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
