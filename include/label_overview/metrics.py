"""The metrics layer: MetricFlow's ``mf`` on the analysts' read copy.

The metrics are defined once, in ``dbt_project/models/semantic/``, and every build writes their
semantic manifest to the data root's ``dbt/target/``. ``mf`` reads that manifest only from
``<dbt project>/target/`` and resolves the profile's paths from where it runs, so ``run_mf``
runs it in the data root, with the data root's ``dbt/`` folder as its project (a link there
names the real ``dbt_project.yml``; ``mf``'s log joins dbt's in ``dbt/logs/``), on the profile's
``metrics`` target: the read copy, opened read-only, so a metric query neither waits for a run
nor holds one up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from label_overview.settings import Settings
from label_overview.transform import DBT_PROJECT_DIR, dbt_env
from label_overview.warehouse import WarehouseError

METRICS_TARGET = "metrics"
SEMANTIC_MANIFEST = "semantic_manifest.json"
PROJECT_FILE = "dbt_project.yml"


def semantic_manifest_path(settings: Settings) -> Path:
    """The semantic manifest of the last build (dbt writes it as it parses the project)."""
    return settings.root.dbt_target / SEMANTIC_MANIFEST


def mf_env(settings: Settings) -> dict[str, str]:
    """The environment ``mf`` runs in: dbt's (no API secrets), the data root's ``dbt/`` folder
    as the project, this project's profiles and the read-only ``metrics`` target."""
    return {
        **dbt_env(settings),
        "DBT_PROJECT_DIR": str(settings.root.dbt_home),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET": METRICS_TARGET,
    }


def prepare_mf(settings: Settings) -> None:
    """Make the data root's ``dbt/`` folder a project ``mf`` can open: a link to the real
    ``dbt_project.yml`` beside the build's ``target/``.

    Raises:
        WarehouseError: no build has written the read copy and the semantic manifest yet.
    """
    root = settings.root
    for path in (root.read_copy, semantic_manifest_path(settings)):
        if not path.is_file():
            raise WarehouseError(f"no {path}: run `label-overview run` first")
    link = root.dbt_home / PROJECT_FILE
    project_file = DBT_PROJECT_DIR / PROJECT_FILE
    if link.is_symlink() and link.readlink() == project_file:
        return
    temp = link.with_name(f".{PROJECT_FILE}.link")
    temp.unlink(missing_ok=True)
    temp.symlink_to(project_file)
    os.replace(temp, link)


def run_mf(settings: Settings, arguments: Sequence[str]) -> int:
    """Run ``mf ARGUMENTS`` (e.g. ``query --metrics label_rate ...``) on the read copy; returns
    its exit status. Its output goes straight to this process's stdout and stderr.

    Raises:
        WarehouseError: no build has written the read copy and the semantic manifest yet.
    """
    prepare_mf(settings)
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("mf")), *arguments],
        cwd=settings.home,
        env=mf_env(settings),
    )
    return completed.returncode
