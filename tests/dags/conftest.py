"""Airflow for the DAG tests: one SQLite metadata database per session, in a temp AIRFLOW_HOME.

Airflow reads its configuration when first imported, so the environment is set here, before
any test module of this folder imports it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="label-overview-airflow-")
# OpenLineage decides once, when Airflow loads its plugins, whether it is on: set it here.
LINEAGE_EVENTS = Path(_AIRFLOW_HOME) / "openlineage-events.jsonl"
os.environ.update(
    AIRFLOW_HOME=_AIRFLOW_HOME,
    AIRFLOW__OPENLINEAGE__NAMESPACE="label_overview",
    AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
        {"type": "file", "log_file_path": str(LINEAGE_EVENTS), "append": True}
    ),
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__UNIT_TEST_MODE="False",
    AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
)


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def point_airflow_at(monkeypatch: pytest.MonkeyPatch, emulator, dataset, home: Path) -> None:
    """The connection and Variables an operator would set, as environment variables."""
    key = dataset.api_keys[0]
    connection = {
        "conn_type": "http",
        "host": emulator.base_url,
        "login": key["key"],
        "password": key["secret"],
    }
    monkeypatch.setenv("AIRFLOW_CONN_DYNAMO_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW_VAR_LABEL_OVERVIEW_HOME", str(home))
