"""Read-only access to the DuckDB warehouse the dbt build writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from label_overview.layout import DataRoot

# DuckDB fetches a missing extension from the internet when a query needs one (httpfs for a
# URL): a pipeline's connections never do. Every extension the project uses is built in.
OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class WarehouseError(RuntimeError):
    """The warehouse is missing, not built yet, or busy."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the warehouse; a retry once it is done succeeds."""


def write_read_copy(root: DataRoot, storage_version: str) -> None:
    """Copy the built warehouse to the analysts' read copy (``root.read_copy``), written in
    DuckDB's ``storage_version`` format.

    DuckDB lets no reader in while a run writes; the copy, replaced atomically after each
    build, is always openable read-only and always a whole build. It is written in an older
    storage format than the warehouse's, so the DuckDB CLI, drivers and BI tools that bundle an
    older DuckDB open it too (a 2.0 file is "version number 69" to 1.5). Called under the
    warehouse lock, so no build writes while it copies.
    """
    temp = root.read_copy.with_name(f".{root.read_copy.name}.tmp")
    for leftover in (temp, temp.with_name(f"{temp.name}.wal")):  # a killed copy's
        leftover.unlink(missing_ok=True)
    with duckdb.connect(config=OFFLINE) as connection:
        connection.execute(f"attach {_literal(root.warehouse)} as warehouse (read_only)")
        connection.execute(
            f"attach {_literal(temp)} as read_copy (storage_version {_literal(storage_version)})"
        )
        connection.execute("copy from database warehouse to read_copy")
    os.replace(temp, root.read_copy)


def _literal(value: object) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def require_warehouse(path: Path) -> None:
    """Raise WarehouseError unless a warehouse has been built at ``path``."""
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `label-overview run` first")


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; raises WarehouseError with one clear line when it cannot open."""
    require_warehouse(path)
    try:
        connection = duckdb.connect(str(path), read_only=True, config=OFFLINE)
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
