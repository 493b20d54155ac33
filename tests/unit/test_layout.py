"""The data root's layout is named once: dbt's files fall back to the names the pipeline hands
them, so a run by hand finds what the pipeline's runs find."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from label_overview.layout import LANDING_DIR, READ_COPY_FILE, WAREHOUSE_FILE, DataRoot
from label_overview.transform import DBT_PROJECT_DIR


def dbt_default(path: Path, variable: str) -> str:
    """The default of ``env_var('VARIABLE', 'default')`` in a dbt file."""
    return re.search(rf"env_var\('{variable}', '([^']+)'\)", path.read_text())[1]


def test_dbt_falls_back_to_the_names_the_pipeline_hands_it():
    env = DataRoot.dbt_env()
    profile = DBT_PROJECT_DIR / "profiles.yml"
    macro = DBT_PROJECT_DIR / "macros" / "read_landing.sql"
    assert dbt_default(profile, "LABEL_OVERVIEW_WAREHOUSE_FILE") == WAREHOUSE_FILE
    assert dbt_default(profile, "LABEL_OVERVIEW_READ_COPY_FILE") == READ_COPY_FILE
    assert dbt_default(macro, "LABEL_OVERVIEW_LANDING_DIR") == LANDING_DIR
    assert env == {
        "LABEL_OVERVIEW_WAREHOUSE_FILE": "warehouse.duckdb",
        "LABEL_OVERVIEW_READ_COPY_FILE": "warehouse.read.duckdb",
        "LABEL_OVERVIEW_LANDING_DIR": "landing",
    }


def test_every_place_lies_in_the_data_root():
    root = DataRoot(Path("/srv/lo"))
    assert [root.landing, root.snapshots, root.warehouse, root.read_copy, root.lock] == [
        Path("/srv/lo/landing"),
        Path("/srv/lo/exports"),
        Path("/srv/lo/warehouse.duckdb"),
        Path("/srv/lo/warehouse.read.duckdb"),
        Path("/srv/lo/.warehouse.lock"),
    ]
    assert (root.dbt_home, root.dbt_target, root.dbt_logs) == (
        Path("/srv/lo/dbt"),
        Path("/srv/lo/dbt/target"),
        Path("/srv/lo/dbt/logs"),
    )
    assert root.manifest("ws_a") == Path("/srv/lo/exports/ws_a/manifest.json")


def test_a_read_copy_storage_version_that_is_not_one_is_refused_in_one_line():
    from label_overview.settings import Settings, SettingsError

    assert Settings.from_env({}).read_copy_storage_version == "v1.4.0"
    assert (
        Settings.from_env(
            {"LABEL_OVERVIEW_READ_COPY_STORAGE_VERSION": "v1.2.0"}
        ).read_copy_storage_version
        == "v1.2.0"
    )
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"LABEL_OVERVIEW_READ_COPY_STORAGE_VERSION": "latest'); drop"})
    assert str(refused.value) == (
        'LABEL_OVERVIEW_READ_COPY_STORAGE_VERSION must look like v1.4.0, got "latest\'); drop"'
    )
