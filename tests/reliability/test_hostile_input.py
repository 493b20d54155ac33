"""Hostile answers from the API: each class fails only what it touches, loudly, and the other
workspaces publish exactly what the API answers."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dynamo_emulator.dataset import Dataset
from label_overview import steps
from label_overview.settings import Settings
from label_overview.windows import Window
from tests.conftest import (
    DATA_START,
    FIRST_WEEK,
    api_answers,
    cli,
    pipeline_env,
    published_snapshots,
)

DAY = DATA_START + dt.timedelta(days=9)
ONE_DAY = ("--from", str(DAY), "--to", str(DAY))


def edited_dataset(dataset_dir: Path, target: Path, **edits: Callable[[list], list]) -> Path:
    """A copy of the dataset with its JSON files (``workspaces``, ``channels``) edited."""
    shutil.copytree(dataset_dir, target)
    for name, edit in edits.items():
        path = target / f"{name}.json"
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    return target


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def published_for(home: Path, answers: dict[str, bytes]) -> dict[str, bytes]:
    return {path: body for path, body in published_snapshots(home).items() if path in answers}


def test_a_control_character_in_a_label_reaches_the_snapshot_as_the_api_renders_it(
    tmp_path, emulator, dataset
):
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    noon = int(dt.datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=dt.UTC).timestamp() * 1000)
    labels = ["bad\u001flabel", "tab\tand\u000bvt", "nul\u0000"]
    message = {**dataset.messages[0], "workspaceId": workspace_id, "mediumId": medium_id}
    emulator.control.append_messages([message | {"timestamp": noon, "labels": labels}])
    env = pipeline_env(emulator, dataset, tmp_path)
    answers = api_answers(emulator, dataset, DAY)
    assert any(b"bad\\u001flabel" in body for body in answers.values())
    # Twice: the rerun publishes again over the same warehouse, where the crash was.
    for _ in range(2):
        result = cli(env, "run", *ONE_DAY)
        assert result.returncode == 0, result.stderr
        assert published_for(tmp_path, answers) == answers


UNSAFE_IDS = ["wś_ünï", "a/b", "../x", "x" * 10_000]


def test_unsafe_workspace_ids_fail_their_workspace_alone(
    tmp_path, dataset_dir, dataset, emulator_for
):
    good = dataset.vip_workspace_ids()
    # One id differs from a good one by a trailing newline alone.
    unsafe = [*UNSAFE_IDS, f"{good[0]}\n"]

    def add_unsafe(rows: list) -> list:
        return rows + [{**rows[0], "id": w, "type": "VIP"} for w in unsafe]

    def connect_unsafe(channels: list) -> list:
        return [{**c, "workspaceIds": [*c["workspaceIds"], *unsafe]} for c in channels]

    data = edited_dataset(
        dataset_dir, tmp_path / "data", workspaces=add_unsafe, channels=connect_unsafe
    )
    emulator = emulator_for(data, retry_after_s=0)
    home = tmp_path / "home"
    result = cli(pipeline_env(emulator, dataset, home), "run", *ONE_DAY)
    assert result.returncode == 1
    line = last_line(result)
    assert line.startswith("label-overview run: error: 5 pair(s) failed, others published: ")
    for shown in ("wś_ünï", "a/b", "../x", f"{good[0]}\\n", "x" * 79 + "…"):
        assert f"workspace id '{shown}' is not a safe identifier for a landing path" in line
    assert "x" * 81 not in result.stderr
    answers = api_answers(emulator, dataset, DAY)
    assert published_for(home, answers) == answers
    landed = {p.name for p in (home / "landing").glob("*/workspace_id=*")}
    assert landed == {f"workspace_id={w}" for w in good}
    assert sorted(p.name for p in (home / "exports").iterdir()) == sorted(good)


def test_a_workspace_deleted_upstream_leaves_the_next_run_whole(
    tmp_path, dataset_dir, dataset, emulator_for, first_week_home
):
    # A copy of the shared clean run is the earlier run that landed both workspaces.
    home = tmp_path / "home"
    shutil.copytree(first_week_home, home)
    kept, deleted = dataset.vip_workspace_ids()
    data = edited_dataset(
        dataset_dir,
        tmp_path / "data",
        workspaces=lambda rows: [w for w in rows if w["id"] != deleted],
    )
    after = emulator_for(data, retry_after_s=0)
    next_day = dt.date.fromisoformat(FIRST_WEEK[-1]) + dt.timedelta(days=1)
    result = cli(
        pipeline_env(after, dataset, home), "run", "--from", str(next_day), "--to", str(next_day)
    )
    assert result.returncode == 0, result.stderr
    channel_lists = home / "landing" / "reference" / "channels"
    assert [p.name for p in channel_lists.iterdir()] == [f"workspace_id={kept}"]
    answers = api_answers(after, Dataset.load(data), next_day)
    assert published_for(home, answers) == answers


def test_harmless_oddities_in_the_listings_are_kept_once(
    tmp_path, dataset_dir, dataset, emulator_for
):
    first, second = dataset.vip_workspace_ids()

    def odd_workspaces(rows: list) -> list:
        twice = next(w for w in rows if w["id"] == second)
        untyped = {"id": "ws_untyped", "name": "No type", "vipIndicator": ""}
        return [*rows, twice, untyped]

    def odd_channels(rows: list) -> list:
        whatsapp = {"id": "WA_1", "type": "WHATSAPP", "name": "Chat", "workspaceIds": [first]}
        return [*rows, rows[0], whatsapp]

    data = edited_dataset(
        dataset_dir, tmp_path / "data", workspaces=odd_workspaces, channels=odd_channels
    )
    emulator = emulator_for(data, retry_after_s=0)
    home = tmp_path / "home"
    result = cli(pipeline_env(emulator, dataset, home), "run", *ONE_DAY)
    assert result.returncode == 0, result.stderr
    assert f"/workspaces lists {second} twice: kept once" in result.stderr
    answers = api_answers(emulator, Dataset.load(data), DAY)
    assert any(path.startswith(f"{first}/WA_1/") for path in answers)
    assert published_for(home, answers) == answers
    assert len(published_snapshots(home)) == len(answers)


def test_a_workspace_listed_twice_with_different_fields_fails_alone(
    tmp_path, dataset_dir, dataset, emulator_for
):
    first, second = dataset.vip_workspace_ids()

    def conflicting(rows: list) -> list:
        twice = next(w for w in rows if w["id"] == second)
        return [*rows, {**twice, "name": "Another name"}]

    data = edited_dataset(dataset_dir, tmp_path / "data", workspaces=conflicting)
    emulator = emulator_for(data, retry_after_s=0)
    home = tmp_path / "home"
    result = cli(pipeline_env(emulator, dataset, home), "run", *ONE_DAY)
    assert result.returncode == 1
    assert last_line(result) == (
        "label-overview run: error: 1 pair(s) failed, others published:"
        f" {second}/* (is listed twice with different fields)"
    )
    answers = {
        path: body
        for path, body in api_answers(emulator, dataset, DAY).items()
        if path.startswith(f"{first}/")
    }
    assert published_for(home, answers) == answers
    assert not (home / "exports" / second).exists()


# What the run's failure line says of a listing of the wrong shape that fails one workspace
# (after "others published: "), by the corruption of the listing.
ONE_WORKSPACE_FAILS = [
    ({"workspaces": ["no_id"]}, "/workspaces item 0/* (has no id)"),
    (
        {"channels": ["not_a_list"]},
        "{first}/* (listing its channels failed: /channels answered dict, not a list)",
    ),
    (
        {"channels": ["no_id"]},
        "{first}/* (listing its channels failed: /channels item 0 has no id)",
    ),
]


@pytest.mark.parametrize(("corruptions", "failed"), ONE_WORKSPACE_FAILS)
def test_a_listing_of_the_wrong_shape_fails_its_workspace_in_the_plan(
    tmp_path, emulator, dataset, corruptions, failed
):
    # In process, the plan a run starts with (~0.3 s; a CLI run with its build takes ~15 s):
    # the reason differs by corruption; the run's line around it, and that the others
    # publish, are the same for each and are proven end to end below.
    emulator.control.set_faults(corruptions=corruptions)
    settings = Settings.from_env(pipeline_env(emulator, dataset, tmp_path))
    plan = steps.plan(settings, Window(DAY, DAY), run_id="t")
    lines = [
        steps.describe_failed_pair((workspace_id, None), (), error)
        for workspace_id, error in plan.failed_workspaces.items()
    ]
    assert lines == [failed.format(first=dataset.vip_workspace_ids()[0])]
    assert plan.pairs


@pytest.mark.parametrize(
    ("corruptions", "message"),
    [
        (
            {"workspaces": ["not_a_list"]},
            "label-overview run: error: /workspaces answered dict, not a list",
        ),
        (
            {"channels": ["no_id"]},
            "label-overview run: error: 1 pair(s) failed, others published: {first}/*"
            " (listing its channels failed: /channels item 0 has no id)",
        ),
    ],
)
def test_a_listing_of_the_wrong_shape_is_one_line(
    tmp_path, emulator, dataset, corruptions, message
):
    first = dataset.vip_workspace_ids()[0]
    emulator.control.set_faults(corruptions=corruptions)
    result = cli(pipeline_env(emulator, dataset, tmp_path), "run", *ONE_DAY)
    assert result.returncode == 1
    assert last_line(result) == message.format(first=first)
    assert "Traceback" not in result.stderr
