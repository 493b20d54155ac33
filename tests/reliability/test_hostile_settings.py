"""Hostile settings and ids: a data root or an id is either used as given, touching nothing
outside its own folders, or refused in one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from label_overview import landing
from label_overview.files import UnsafeIdError
from label_overview.settings import UNUSABLE_IN_HOME
from tests.conftest import DATA_START, api_answers, cli, pipeline_env, published_snapshots

DAY = DATA_START + dt.timedelta(days=9)
LANDING = Path("/data/landing")


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.text(max_size=300), st.from_regex(r"[A-Za-z0-9][\w.:-]{0,130}\n?")))
def test_any_id_names_one_folder_of_its_own_or_is_refused_in_one_short_line(value):
    try:
        path = landing.message_partition_path(LANDING, value, "M", DAY)
    except UnsafeIdError as error:
        message = str(error)
        assert "\n" not in message
        refusal = "workspace id '' is not a safe identifier for a landing path"
        assert len(message) <= len(refusal) + 80
        return
    folder = LANDING / "vip_messages" / f"workspace_id={value}"
    assert path == folder / "medium_id=M" / f"day={DAY}" / landing.MESSAGES_FILE
    # One segment, no way up: the path stays below the landing, in its own folder.
    assert Path(value).name == value and value not in (".", "..")
    assert value.isprintable() and value.isascii()


def land_stray_partition(home: Path, workspace_id: str, medium_id: str) -> None:
    """A partition in another data root that a glob over this root's path would catch."""
    stray = {"timestamp": 0, "conversationId": "stray", "labels": ["stray"], "_line": 1}
    path = landing.message_partition_path(home / "landing", workspace_id, medium_id, DAY)
    landing.write_json_lines(path, [stray])


def assert_publishes_the_api_answers(home: Path, emulator, dataset) -> None:
    result = cli(pipeline_env(emulator, dataset, home), "run", "--from", str(DAY), "--to", str(DAY))
    assert result.returncode == 0, result.stderr
    answers = api_answers(emulator, dataset, DAY)
    assert published_snapshots(home) == answers
    assert sorted(p.name for p in (home / "exports").iterdir()) == sorted(
        dataset.vip_workspace_ids()
    )


def test_a_data_root_with_quotes_brackets_and_a_partition_name_holds_only_its_own_data(
    tmp_path, emulator, dataset
):
    first, second = dataset.vip_workspace_ids()
    medium_id = dataset.channels_of(first)[0]["id"]
    # A root named like another workspace's partition, with a quote, whose glob form t[12]
    # would match its sibling t1.
    parent = tmp_path / f"workspace_id={second}" / "o'brien"
    land_stray_partition(parent / "t1", first, medium_id)
    assert_publishes_the_api_answers(parent / "t[12]", emulator, dataset)


# Characters that mean something to SQL, globs, hive partitions or the shell.
HOSTILE_SEGMENT = st.text(alphabet="a'\"[]*?{},=% $\\;é", min_size=1, max_size=8).filter(
    lambda name: name not in (".", "..")
)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(segment=HOSTILE_SEGMENT)
@example(segment="a?b")
def test_any_data_root_works_end_to_end_or_is_refused_in_one_line(
    tmp_path_factory, emulator, dataset, segment
):
    home = tmp_path_factory.mktemp("root") / segment
    unusable = [c for c in UNUSABLE_IN_HOME if c in segment]
    if not unusable:
        assert_publishes_the_api_answers(home, emulator, dataset)
        return
    result = cli(pipeline_env(emulator, dataset, home), "run", "--from", str(DAY), "--to", str(DAY))
    assert result.returncode == 1
    assert result.stderr == (
        "label-overview run: error: LABEL_OVERVIEW_HOME must not contain"
        f" {' or '.join(map(repr, unusable))}: DuckDB cannot keep a warehouse below it\n"
    )
    assert not home.exists()
