"""Airflow for the DAG tests: one SQLite metadata database per session, in a temp AIRFLOW_HOME;
and the runs several tests share, made once per session (a daily run costs ~35 s, most of it
dbt's): tests that only read a shared data root read it, tests that write copy it.

Airflow reads its configuration when first imported, so the environment is set here, before
any test module of this folder imports it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from dynamo_emulator.server import running_emulator
from tests.conftest import DATA_START, cli, pipeline_env

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


def run_dag(dagbag, dag_id: str, logical_date=None, conf=None):
    """One ``dag.test`` run; the run and its task instances' states by (task id, map index)."""
    dag = dagbag.get_dag(dag_id)
    run = dag.test(logical_date=logical_date, run_conf=conf)
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    return run, states


def daily_logical_date(day: dt.date) -> dt.datetime:
    """dag.test infers the data interval that ends at the logical date: the day before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2, 30), tzinfo=dt.UTC)


def copy_home(source: Path, target: Path) -> Path:
    """A data root of its own for a test that writes, copied from a shared one (its paths are
    relative to it: dbt runs in it)."""
    shutil.copytree(source, target)
    return target


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


@contextmanager
def running_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on loopback (aiosmtpd) as ``smtp_default``, and the alerts' address
    set: the messages it received."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks its own with a connection
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW_VAR_LABEL_OVERVIEW_ALERT_EMAILS", "oncall@example.com")
    try:
        yield inbox
    finally:
        controller.stop()


# The day of the one clean daily run the tests share (``clean_daily_run``).
CLEAN_DAY = DATA_START + dt.timedelta(days=5)


@dataclass(frozen=True)
class CleanDailyRun:
    """A finished daily run of CLEAN_DAY on a fresh data root, as the tests that share it see
    it: read ``home`` only (``copy_home`` it to write)."""

    home: Path
    run_id: str
    state: str
    states: dict[tuple[str, int], str]
    # The OpenLineage events it wrote, in order.
    lineage_events: list[dict]
    # What its alerts sent (none, on time and clean).
    emails: list[bytes]


@pytest.fixture(scope="session")
def clean_daily_run(dagbag, dataset_dir, dataset, tmp_path_factory) -> CleanDailyRun:
    """One clean daily DAG run of CLEAN_DAY on a fresh data root, made once per worker: each
    costs ~35 s (dbt build and freshness most of it). The 503s test compares its faulty run
    with it, the lineage test reads its events, the completeness test its snapshots and the
    lateness test its run record (both on a copy)."""
    home = tmp_path_factory.mktemp("clean-daily") / "home"
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        running_emulator(dataset_dir, retry_after_s=0) as emulator,
        running_inbox(monkeypatch) as inbox,
    ):
        point_airflow_at(monkeypatch, emulator, dataset, home)
        before = LINEAGE_EVENTS.stat().st_size if LINEAGE_EVENTS.exists() else 0
        run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(CLEAN_DAY))
        with LINEAGE_EVENTS.open() as events_file:
            events_file.seek(before)
            events = [json.loads(line) for line in events_file]
    return CleanDailyRun(home, run.run_id, run.state, states, events, list(inbox.messages))


# The days of the two-day tests (a first run, then the next day's).
TWO_DAYS = (DATA_START + dt.timedelta(days=9), DATA_START + dt.timedelta(days=10))


@pytest.fixture(scope="session")
def cli_first_day_home(dataset_dir, dataset, tmp_path_factory) -> Path:
    """A data root after one ``label-overview run`` of TWO_DAYS[0] on a fresh one, made once
    per worker for the tests that go on from it on a copy (``copy_home``)."""
    home = tmp_path_factory.mktemp("cli-first-day") / "home"
    day = str(TWO_DAYS[0])
    with running_emulator(dataset_dir, retry_after_s=0) as emulator:
        result = cli(pipeline_env(emulator, dataset, home), "run", "--from", day, "--to", day)
    assert result.returncode == 0, result.stderr
    return home
