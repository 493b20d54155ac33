"""Read-only access to the DuckDB warehouse the dbt build writes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from label_overview.layout import DataRoot


class WarehouseError(RuntimeError):
    """The warehouse is missing, not built yet, or busy."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the warehouse; a retry once it is done succeeds."""


def write_read_copy(root: DataRoot) -> None:
    """Copy the built warehouse to the analysts' read copy (``root.read_copy``).

    DuckDB lets no reader in while a run writes; the copy, replaced atomically after each
    build, is always openable read-only and always a whole build. Called under the warehouse
    lock, so no build writes while it copies.
    """
    temp = root.read_copy.with_name(f".{root.read_copy.name}.tmp")
    shutil.copyfile(root.warehouse, temp)
    os.replace(temp, root.read_copy)


def require_warehouse(path: Path) -> None:
    """Raise WarehouseError unless a warehouse has been built at ``path``."""
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `label-overview run` first")


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; raises WarehouseError with one clear line when it cannot open."""
    require_warehouse(path)
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusyError(
                f"warehouse busy: a run is writing {path}; retry when it is done"
            ) from None
        raise WarehouseError(f"cannot open the warehouse {path}: {error}") from None
    try:
        # Set after connecting: as a connect-time option it comes before ICU is loaded.
        connection.execute("set TimeZone = 'UTC'")
        # The views over landing files (the run history) name them relative to the data root.
        connection.execute("set file_search_path = $root", {"root": str(path.parent)})
        yield connection
    finally:
        connection.close()
