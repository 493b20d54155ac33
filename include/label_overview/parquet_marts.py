"""Every mart as Parquet, for tools without DuckDB (pandas, polars, Spark, BI tools).

``$LABEL_OVERVIEW_HOME/parquet/<mart>/`` is a folder of Parquet files, hive-partitioned by
``workspace_id=W/`` where the mart has that column, rows, and only ids that can name a folder
(else one ``data.parquet``). Each build writes a new generation under
``parquet/.builds/<stamp>/`` and then points each ``parquet/<mart>`` link at it, one atomic
rename per mart, so a reader opens the previous build's files or the new one's, never a mix
within a mart; older generations than the previous one are removed.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb

from label_overview.files import SAFE_ID_PATTERN
from label_overview.layout import DataRoot

BUILDS_DIR = ".builds"


def write_parquet_marts(connection: duckdb.DuckDBPyConnection, root: DataRoot) -> list[str]:
    """Write every table of the ``marts`` schema (``connection``: the built warehouse or its
    read copy) as Parquet; returns the marts written. The run history, a view over records
    that change after the build (the run's own finish), is left to the warehouse."""
    generation = root.parquet / BUILDS_DIR / f"{time.time_ns()}"
    marts = connection.execute(
        """select table_name, bool_or(column_name = 'workspace_id')
           from information_schema.columns
           inner join information_schema.tables using (table_schema, table_name)
           where table_schema = 'marts' and table_type = 'BASE TABLE'
           group by table_name
           order by table_name"""
    ).fetchall()
    for name, has_workspace in marts:
        # Partition folders are named after the ids, so only ids that can name a folder (a
        # listing may hold others; ``files.safe_id``); and an empty mart partitioned would
        # write no file at all. Otherwise one file.
        by_workspace = (
            has_workspace
            and connection.execute(
                f"""select count(*) > 0 and bool_and(
                       regexp_full_match(workspace_id, $pattern)
                       and not contains(workspace_id, '..')
                   )
                from marts.{name}""",
                {"pattern": SAFE_ID_PATTERN},
            ).fetchone()[0]
        )
        folder = generation / name
        folder.parent.mkdir(parents=True, exist_ok=True)
        partitioning = ", partition_by (workspace_id)" if by_workspace else ""
        if not by_workspace:
            folder.mkdir()
        target = folder if by_workspace else folder / "data.parquet"
        connection.execute(
            f"copy (select * from marts.{name}) to '{_quoted(target)}'"
            f" (format parquet, compression zstd{partitioning})"
        )
    for name, _ in marts:
        link = root.parquet / name
        temp = root.parquet / f".{name}.link"
        temp.unlink(missing_ok=True)
        temp.symlink_to(Path(BUILDS_DIR) / generation.name / name)
        if link.is_dir() and not link.is_symlink():  # a data root copied without its links
            shutil.rmtree(link)
        os.replace(temp, link)
    _remove_old_generations(root.parquet / BUILDS_DIR, keep=2)
    return [name for name, _ in marts]


def _remove_old_generations(builds: Path, keep: int) -> None:
    """Keep the newest ``keep``: the current one, and the one a reader may still be reading."""
    generations = sorted(builds.iterdir(), key=lambda path: int(path.name))
    for old in generations[:-keep]:
        shutil.rmtree(old)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
