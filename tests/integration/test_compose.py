"""docker-compose.yml and the Dockerfile, checked as files (no Docker engine runs here): the
official Airflow 3 layout, health checks, the bucket every host shares and the writer's own
volume, and no secret in the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker --queues default",
    "airflow-worker-duckdb": "celery worker --queues default,duckdb",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def test_services_follow_the_official_layout(compose):
    assert set(compose["services"]) == {
        "postgres",
        "redis",
        "seaweedfs",
        "airflow-init",
        *AIRFLOW_SERVICES,
    }
    for name, command in AIRFLOW_SERVICES.items():
        service = compose["services"][name]
        assert service["command"] == command, name
        assert service["build"] == "." and service["image"] == "label-overview:latest", name
        assert service["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }, name
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}, name
        assert service["depends_on"]["seaweedfs"] == {"condition": "service_healthy"}, name
    assert compose["services"]["airflow-worker"]["deploy"]["replicas"] >= 2
    # One owner of the warehouse: a single worker serves the writer queue.
    assert "deploy" not in compose["services"]["airflow-worker-duckdb"]


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "airflow-init":
            continue
        check = service["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL") and len(check) >= 2, name
    assert "pg_isready" in compose["services"]["postgres"]["healthcheck"]["test"]
    assert "/api/v2/version" in " ".join(
        compose["services"]["airflow-apiserver"]["healthcheck"]["test"]
    )
    for worker in ("airflow-worker", "airflow-worker-duckdb"):
        assert "celery_executor.app inspect ping" in " ".join(
            compose["services"][worker]["healthcheck"]["test"]
        )
    assert "/healthz" in " ".join(compose["services"]["seaweedfs"]["healthcheck"]["test"])


def test_environment_wires_celery_postgres_redis_and_the_data_root(compose, dockerfile):
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres/airflow")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert (
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    )
    data_root = re.search(r"LABEL_OVERVIEW_HOME=(\S+)", dockerfile)[1]
    assert env["LABEL_OVERVIEW_HOME"] == env["AIRFLOW_VAR_LABEL_OVERVIEW_HOME"] == data_root
    # The shared parts live in the bucket; only the writer keeps a volume, its own.
    assert env["AIRFLOW_VAR_LABEL_OVERVIEW_STORAGE_URL"] == "s3://label-overview/data"
    storage = json.loads(
        env["AIRFLOW_CONN_LABEL_OVERVIEW_STORAGE"]
        .replace("${STORAGE_ACCESS_KEY:?set STORAGE_ACCESS_KEY}", "key")
        .replace("${STORAGE_SECRET_KEY:?set STORAGE_SECRET_KEY}", "secret")
    )
    assert storage["extra"] == {"endpoint_url": "http://seaweedfs:8333"}
    assert "-bucket=label-overview" in " ".join(compose["services"]["seaweedfs"]["command"])
    for name in AIRFLOW_SERVICES:
        volumes = compose["services"][name]["volumes"]
        data = [volume for volume in volumes if volume.endswith(f":{data_root}")]
        writer = name == "airflow-worker-duckdb"
        assert data == ([f"label-overview-warehouse:{data_root}"] if writer else []), name
    assert {"label-overview-warehouse", "object-storage"} <= set(compose["volumes"])
    assert re.search(r"AIRFLOW__CORE__DAGS_FOLDER", str(env))
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] in dockerfile  # where the image puts dags/
    # The package finds the dbt project where the image copies it.
    assert re.search(r"LABEL_OVERVIEW_DBT_PROJECT_DIR=(\S+)", dockerfile)[1] == (
        "/opt/label-overview/dbt_project"
    )
    assert "WORKDIR /opt/label-overview\n" in dockerfile
    assert "COPY dbt_project ./dbt_project\n" in dockerfile


def test_credentials_come_from_the_environment_only(compose):
    text = (REPO / "docker-compose.yml").read_text()
    connection = compose["services"]["airflow-worker"]["environment"]["AIRFLOW_CONN_DYNAMO_DEFAULT"]
    for variable in ("DYNAMO_API_BASE_URL", "DYNAMO_API_KEY", "DYNAMO_API_SECRET"):
        assert f"${{{variable}:?" in connection
    storage = compose["services"]["airflow-worker"]["environment"][
        "AIRFLOW_CONN_LABEL_OVERVIEW_STORAGE"
    ]
    for variable in ("STORAGE_ACCESS_KEY", "STORAGE_SECRET_KEY"):
        assert f"${{{variable}:?" in storage
        assert compose["services"]["seaweedfs"]["environment"][variable].startswith(
            f"${{{variable}:?"
        )
    for setting in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert re.search(rf"{setting}: \$\{{\w+:\?", text), setting
    assert not re.search(r"(secret|password)\W*[:=]\s*['\"]?[0-9a-f]{16,}", text, re.IGNORECASE)


def test_init_creates_the_pools_the_dags_use(compose):
    init = " ".join(compose["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert "pools set dynamo_api" in init and "pools set duckdb_writer 1" in init


def test_the_image_installs_the_lock_and_the_package(dockerfile):
    assert "FROM python:3.11" in dockerfile
    assert (
        "uv pip install --system --compile-bytecode --no-cache -r requirements.lock" in dockerfile
    )
    assert "--no-deps -e ." in dockerfile
    for path in ("include/label_overview", "dbt_project", "dags"):
        assert re.search(rf"^COPY {path} ", dockerfile, re.MULTILINE), path
    assert "dynamo_emulator" not in dockerfile
    assert "USER airflow" in dockerfile


def locked(name: str) -> dict[str, list[str]]:
    """A lock's packages, each with what requires it (uv's ``# via`` lines)."""
    packages: dict[str, list[str]] = {}
    current = None
    for line in (REPO / name).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==\S+ \\$", line):
            current = match[1].lower()
            packages[current] = []
        elif current and (match := re.match(r"^    #\s+(?:via )?([A-Za-z0-9._-]+)", line)):
            if match[1] != "via":
                packages[current].append(match[1])
    return packages


def test_the_runtime_lock_has_no_test_tools_and_both_locks_pin_hashes():
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert not {"pytest", "pytest-xdist", "pytest-timeout", "ruff", "hypothesis"} & set(runtime)
    assert {"pytest", "ruff", "hypothesis"} <= set(dev)
    # Airflow's own API server runs on them; the pipeline does not need them.
    assert "label-overview" not in runtime["uvicorn"] + runtime["starlette"]
    assert "apache-airflow-core" in runtime["uvicorn"]
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (REPO / name).read_text()
        pins = re.findall(r"^[A-Za-z0-9._-]+==\S+ \\$", text, re.MULTILINE)
        assert len(pins) == len(locked(name)) > 150
        assert text.count("--hash=sha256:") >= len(pins)
