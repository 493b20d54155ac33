"""Lineage: what each Airflow task read and wrote, for OpenLineage.

The OpenLineage provider sends a START and a COMPLETE event per task to the transport its
configuration names (a file by default, see the README; Marquez by configuration alone). The
datasets a task touches are known only when it runs (the pairs planned, the marts built, the
snapshots written), so the task names them on itself before it returns, as OpenLineage
datasets among its inlets and outlets, and the COMPLETE event carries them. Names: the API's
endpoints under its base URL, landing folders and snapshot files under ``file`` (or, with a
storage, under their bucket, ``s3://bucket``), warehouse relations under
``duckdb://<warehouse path>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from label_overview import storage
from label_overview.settings import Settings

LANDING_TABLES = ("vip_messages", "label_overview_daily", "label_overview_weekly", "reference")


def api(settings: Settings, *paths: str) -> list[Any]:
    """The API's endpoints (the base URL holds no credential: those travel in headers)."""
    return [_dataset(settings.api_base_url.rstrip("/"), path) for path in paths]


def files(settings: Settings, paths: Iterable[Path]) -> list[Any]:
    """Files and folders of the data root, where users find them: the bucket's, with a
    storage (``storage.located``)."""
    if not settings.storage_url:
        return [_dataset("file", str(path)) for path in paths]
    found = []
    for path in paths:
        bucket, _, name = storage.located(settings, path).removeprefix("s3://").partition("/")
        found.append(_dataset(f"s3://{bucket}", name))
    return found


def landing_tables(settings: Settings) -> list[Any]:
    return files(settings, (settings.root.landing / table for table in LANDING_TABLES))


def relations(settings: Settings, names: Iterable[str]) -> list[Any]:
    return [_dataset(f"duckdb://{settings.root.warehouse}", name) for name in names]


def declare(context: Any, inputs: list[Any], outputs: list[Any]) -> None:
    """Name the running task's datasets for its COMPLETE event. Its own Airflow assets stay;
    the lists are replaced, not extended, so a task run twice in one process names them once.
    """
    from openlineage.client.event_v2 import Dataset

    task = context["task"]
    task.inlets = [i for i in task.inlets if not isinstance(i, Dataset)] + inputs
    task.outlets = [o for o in task.outlets if not isinstance(o, Dataset)] + outputs


def _dataset(namespace: str, name: str) -> Any:
    from openlineage.client.event_v2 import Dataset

    return Dataset(namespace=namespace, name=name)
