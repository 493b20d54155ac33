"""The distributed topology natively: this machine's PostgreSQL and Redis, and Airflow's
api-server, scheduler, dag-processor and two Celery workers as real processes, configured as
docker-compose.yml configures the containers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _answers(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def ensure_postgres_and_redis() -> None:
    """Start the machine's PostgreSQL and Redis if they are not answering (as the README says)."""
    if not _answers(["pg_isready", "-h", "127.0.0.1", "-p", "5432"]):
        clusters = sorted(os.listdir("/etc/postgresql"))
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "start"],
            check=True,
        )
    if not _answers(["redis-cli", "-h", "127.0.0.1", "ping"]):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
            ],
            check=True,
        )
    deadline = time.monotonic() + 30
    while not (
        _answers(["pg_isready", "-h", "127.0.0.1"])
        and _answers(["redis-cli", "-h", "127.0.0.1", "ping"])
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL or Redis did not start")
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


@dataclass
class Topology:
    env: dict[str, str]
    api_url: str
    home: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    # What a test starts beside Airflow (an S3 server), stopped after Airflow's processes.
    stack: ExitStack = field(default_factory=ExitStack)

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        log = (self.home / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen(
                [str(BIN / "airflow"), *args],
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.api_url}/api/v2", timeout=30)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def topology(tmp_path) -> Iterator[Topology]:
    from cryptography.fernet import Fernet

    ensure_postgres_and_redis()
    database = f"label_overview_test_{uuid.uuid4().hex[:10]}"
    psql(f"create database {database}")
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-n", "7", "flushdb"], check=True, capture_output=True
    )
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}",
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/7",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{database}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    topology = Topology(env, api_url, tmp_path)
    try:
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True
        )
        for pool, slots in (("dynamo_api", "8"), ("duckdb_writer", "1")):
            subprocess.run(
                [str(BIN / "airflow"), "pools", "set", pool, slots, ""],
                env=env,
                check=True,
                capture_output=True,
            )
        yield topology
    finally:
        topology.stop()
        topology.stack.close()
        shutil.rmtree(tmp_path / "airflow" / "logs", ignore_errors=True)
        psql(f"drop database if exists {database} with (force)")


def wait_for(check, *, timeout_s: float, what: str, interval_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval_s)


def connection_json(emulator, dataset) -> str:
    key = dataset.api_keys[0]
    return json.dumps(
        {
            "conn_type": "http",
            "host": emulator.base_url,
            "login": key["key"],
            "password": key["secret"],
        }
    )
