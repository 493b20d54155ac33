"""The data root's layout: every place under ``$LABEL_OVERVIEW_HOME``, named once.

dbt runs in the data root and finds the warehouse and the landing by the relative names it
gets in its environment (``dbt_env``); ``profiles.yml`` and ``macros/read_landing.sql`` fall
back to the same names for a run by hand. The partitions inside the landing are
``landing.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WAREHOUSE_FILE = "warehouse.duckdb"
READ_COPY_FILE = "warehouse.read.duckdb"
LANDING_DIR = "landing"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class DataRoot:
    """The folders and files of one data root."""

    home: Path

    @property
    def landing(self) -> Path:
        return self.home / LANDING_DIR

    @property
    def snapshots(self) -> Path:
        """Published snapshots, manifests and reports, one folder per workspace; the folder
        keeps its published name, which users' jobs read."""
        return self.home / "exports"

    @property
    def warehouse(self) -> Path:
        return self.home / WAREHOUSE_FILE

    @property
    def read_copy(self) -> Path:
        """The copy of the last complete build that analysts open while runs write."""
        return self.home / READ_COPY_FILE

    @property
    def parquet(self) -> Path:
        """Every mart as Parquet, one folder each (``parquet_marts.py``)."""
        return self.home / "parquet"

    @property
    def lock(self) -> Path:
        """The advisory lock of the warehouse's one writer (``locking.py``)."""
        return self.home / ".warehouse.lock"

    @property
    def dbt_home(self) -> Path:
        """dbt's folder: ``target/`` and ``logs/``. MetricFlow's ``mf`` takes it for the dbt
        project's folder, since it reads the semantic manifest from ``<project>/target/`` only
        and logs to ``<project>/logs/`` (``metrics.py``)."""
        return self.home / "dbt"

    @property
    def dbt_target(self) -> Path:
        return self.dbt_home / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.dbt_home / "logs"

    def manifest(self, workspace_id: str) -> Path:
        return self.snapshots / workspace_id / MANIFEST_NAME

    @staticmethod
    def dbt_env() -> dict[str, str]:
        """What dbt, running in the data root, needs to find its files."""
        return {
            "LABEL_OVERVIEW_WAREHOUSE_FILE": WAREHOUSE_FILE,
            "LABEL_OVERVIEW_READ_COPY_FILE": READ_COPY_FILE,
            "LABEL_OVERVIEW_LANDING_DIR": LANDING_DIR,
        }
