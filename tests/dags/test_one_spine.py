"""One spine of steps: a CLI run and a DAG run over the same window call the same step
functions of ``label_overview.steps`` with the same arguments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import shutil

from label_overview import steps
from label_overview.pipeline import run_pipeline
from label_overview.settings import Secret, Settings
from label_overview.windows import Window
from tests.conftest import DATA_START, pipeline_env

from .conftest import point_airflow_at, run_dag

STEPS = ("plan", "extract", "build", "publish", "finish")
# What differs by run and by runner, not by the request: the run's id, the CLI's time bound.
PER_RUN = ("run_id", "stop_at")
# Building and publishing never call the API: the DAG's tasks get no credentials for them.
WITHOUT_API = ("build", "publish", "finish")


def record_steps(monkeypatch) -> list[tuple[str, dict]]:
    """Replace each step with a recorder that notes its bound arguments, then calls it."""
    calls = []
    for name in STEPS:
        step = getattr(steps, name)

        def recorder(*args, _name=name, _step=step, **kwargs):
            bound = inspect.signature(_step).bind(*args, **kwargs)
            bound.apply_defaults()
            calls.append((_name, dict(bound.arguments)))
            return _step(*args, **kwargs)

        monkeypatch.setattr(steps, name, recorder)
    return calls


def per_workspace(name: str, arguments: dict) -> list[dict]:
    """A publish as one call per workspace it publishes, its other arguments alike: the CLI
    publishes every workspace in one batch, the DAG each in a task of its own."""
    if name != "publish":
        return [arguments]
    return [{**arguments, "workspace_ids": [w]} for w in arguments["workspace_ids"]]


def comparable(calls: list[tuple[str, dict]]) -> list[tuple[str, list]]:
    """The calls without their per-run arguments, each publish flattened into one entry per
    workspace, in a stable order (pairs run in parallel)."""
    result = []
    for name, arguments in calls:
        settings = arguments["settings"]
        if name in WITHOUT_API:
            settings = dataclasses.replace(
                settings, api_base_url="", api_key="", api_secret=Secret("")
            )
        for kept in per_workspace(name, {**arguments, "settings": settings}):
            result.append((name, sorted((k, repr(v)) for k, v in kept.items() if k not in PER_RUN)))
    return sorted(result)


def published_batches(calls: list[tuple[str, dict]]) -> list[list[str]]:
    """The workspaces of each publish call, in the order of the calls."""
    return [list(arguments["workspace_ids"]) for name, arguments in calls if name == "publish"]


def test_the_cli_and_a_dag_run_call_the_same_steps_alike(
    dagbag, emulator, dataset, tmp_path, monkeypatch
):
    day = DATA_START + dt.timedelta(days=9)
    home = tmp_path / "home"
    calls = record_steps(monkeypatch)
    settings = Settings.from_env(pipeline_env(emulator, dataset, home))
    run_pipeline(settings, Window(day, day))
    by_cli, cli_batches = comparable(calls), published_batches(calls)
    calls.clear()
    shutil.rmtree(home)

    point_airflow_at(monkeypatch, emulator, dataset, home)
    run, states = run_dag(
        dagbag, "label_overview_backfill", conf={"from": str(day), "to": str(day)}
    )
    assert run.state == "success", states
    by_dag = comparable(calls)
    workspaces = sorted(dataset.vip_workspace_ids())
    pairs = sum(len(dataset.channels_of(w)) for w in workspaces)
    assert [name for name, _ in by_cli].count("extract") == pairs
    # The CLI publishes every workspace in one call, the DAG each in a call of its own.
    assert cli_batches == [workspaces]
    assert sorted(published_batches(calls)) == [[w] for w in workspaces]
    assert by_dag == by_cli
