"""Faults and bad input from the API: exact results, or a clear failure naming the pair."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import astuple

import jsonschema
import pytest

from dynamo_emulator.app import CORRUPTIONS
from label_overview import coverage, landing, steps
from label_overview.contract import label_overview_status_schema
from label_overview.dynamo.errors import ResponseFormatError
from label_overview.extract import Pair, discover_pairs, extract_pair, open_client
from label_overview.settings import Secret, Settings
from label_overview.windows import Window
from tests.conftest import (
    DATA_START,
    FIRST_WEEK,
    api_answers,
    cli,
    exported_files,
    marts_rows,
    pipeline_env,
    published_snapshots,
)

DAYS = (
    "--from",
    str(DATA_START + dt.timedelta(days=3)),
    "--to",
    str(DATA_START + dt.timedelta(days=9)),
)


def test_thirty_percent_faults_give_the_fault_free_result(
    tmp_path, emulator, dataset, first_week_home
):
    emulator.control.set_faults(fail_rate=0.3, latency_ms=2, retry_after_s=0, seed=11)
    env = pipeline_env(emulator, dataset, tmp_path)
    # One pull at a time, so the seeded faults fall on the same requests every run: with pulls
    # side by side, which request draws which fault varies, and one in several runs of ~200
    # requests had one fail all 6 attempts (0.3^6 each).
    env["LABEL_OVERVIEW_MAX_CONCURRENCY"] = "1"
    # The fault-free result is the shared clean run of the same days (conftest).
    result = cli(env, "run", *FIRST_WEEK)
    assert result.returncode == 0, result.stderr
    assert marts_rows(tmp_path) == marts_rows(first_week_home)
    assert published_snapshots(tmp_path) == published_snapshots(first_week_home)
    statuses = {str(r["status"]) for r in emulator.control.requests()}
    assert {"429", "500", "503", "dropped"} <= statuses


def test_a_workspace_that_keeps_failing_is_named_and_the_others_publish(
    tmp_path, emulator, dataset
):
    failing, healthy = dataset.vip_workspace_ids()[:2]
    emulator.control.set_faults(unavailable_workspaces=[failing])
    env = pipeline_env(emulator, dataset, tmp_path)
    env["LABEL_OVERVIEW_MAX_RETRY_S"] = "3"
    result = cli(env, "run", *DAYS)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("label-overview run: error: ")
    assert f"{failing}/* (listing its channels failed: /channels: gave up after" in last
    assert healthy not in last
    assert (tmp_path / "exports" / healthy / "manifest.json").exists()
    assert not (tmp_path / "exports" / failing).exists()


# What the failure line says of each bad page (the second page of a pair, 50 items asked).
BAD_PAGE_REASONS = {
    "malformed_json": "/vip-messages answered malformed or truncated JSON",
    "truncated": "/vip-messages answered malformed or truncated JSON",
    "missing_field": "vip-messages item 0 has no conversationId",
    "wrong_type": "vip-messages item 0 has no integer timestamp",
    "outside_window": "vip-messages item 0 is outside the requested window",
    "duplicate_page": "vip-messages item 0 is not before the cursor",
    "short_page": "vip-messages page holds 25 items but says it returned 50",
    "overfull_page": "vip-messages page holds 51 items, more than its limit 50",
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_bad_page_fails_its_pair_clearly_and_lands_none_of_its_days(
    tmp_path, emulator, dataset, corruption
):
    # In process, the steps a CLI run calls (the plan, then one pair's extract; ~0.5 s, where a
    # CLI run with its dbt build takes ~15 s): what differs by corruption is the pair's failure
    # reason and what it leaves in the landing. The CLI's failure line around the reason, the
    # others publishing and the repairing rerun are the same for every corruption and are
    # proven once, end to end, below.
    emulator.control.set_faults(corruptions={"vip-messages": ["ok", corruption]})
    env = pipeline_env(emulator, dataset, tmp_path) | {"LABEL_OVERVIEW_PAGE_SIZE": "50"}
    settings = Settings.from_env(env)
    run_plan = steps.plan(settings, Window(*map(dt.date.fromisoformat, DAYS[1::2])), run_id="t")
    pair_plan = run_plan.pairs[0]
    pair = pair_plan.pair
    with pytest.raises(ResponseFormatError) as raised:
        steps.extract(settings, pair_plan, run_id="t")
    line = steps.describe_failed_pair(
        (pair.workspace_id, pair.channel_id), pair_plan.windows, raised.value
    )
    assert line.endswith(f": {BAD_PAGE_REASONS[corruption]})")
    # Nothing of the pair counts as landed: the next run's plan pulls every day of it again.
    # (The days its good page held may be written already; none has its _landed.json record,
    # written only once the whole pull has landed.)
    landing_dir = settings.root.landing
    assert coverage.landed_days(landing_dir, *astuple(pair), settings.mode) == set()
    messages = landing.message_partitions_dir(landing_dir, *astuple(pair))
    assert not list(messages.rglob(landing.LANDED_FILE))
    replanned = steps.plan(settings, run_plan.request, run_id="t2").pairs[0]
    assert replanned == pair_plan


def test_a_bad_page_fails_its_pair_in_a_run_and_a_rerun_repairs_it(
    tmp_path, emulator, dataset, first_week_home
):
    corruption = "truncated"
    emulator.control.set_faults(corruptions={"vip-messages": ["ok", corruption]})
    env = pipeline_env(emulator, dataset, tmp_path)
    env["LABEL_OVERVIEW_PAGE_SIZE"] = "50"
    failed = cli(env, "run", *FIRST_WEEK)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert "1 pair(s) failed, others published" in last
    assert f": {BAD_PAGE_REASONS[corruption]})" in last
    repaired = cli(env, "run", *FIRST_WEEK)
    assert repaired.returncode == 0, repaired.stderr
    assert marts_rows(tmp_path) == marts_rows(first_week_home)


def test_a_channel_removed_mid_run_fails_that_pair_clearly(tmp_path, emulator, dataset):
    key = dataset.api_keys[0]
    settings = Settings(
        api_base_url=emulator.base_url,
        api_key=key["key"],
        api_secret=Secret(key["secret"]),
        home=tmp_path,
    )
    with open_client(settings) as client:
        pairs = discover_pairs(client).pairs
        gone: Pair = pairs[0]
        emulator.control.disconnect_channel(gone.workspace_id, gone.channel_id)
        window = Window(DATA_START, DATA_START)
        with pytest.raises(Exception, match="Channel is not connected to the workspace") as raised:
            extract_pair(client, settings, gone, [window], run_id="test")
        assert raised.value.status == 400
        assert extract_pair(client, settings, pairs[1], [window], run_id="test").messages > 0


def test_an_organization_without_vip_workspaces_runs_and_publishes_nothing(tmp_path, dataset):
    from dynamo_emulator.dataset import Dataset
    from dynamo_emulator.server import running_emulator

    empty = Dataset(dataset.organization, dataset.api_keys, [], [], [], [])
    with running_emulator(empty) as emulator:
        result = cli(pipeline_env(emulator, dataset, tmp_path), "run", *DAYS)
    assert result.returncode == 0, result.stderr
    assert ": 0 workspace×channel pairs" in result.stdout
    assert not (tmp_path / "exports").exists() or exported_files(tmp_path) == {}


def test_a_channel_whose_pulls_always_fail_holds_back_its_workspace_alone(
    tmp_path, emulator, dataset, first_week_home
):
    # A copy of the shared clean run stands for the earlier run whose files must stay.
    home = tmp_path / "home"
    shutil.copytree(first_week_home, home)
    env = pipeline_env(emulator, dataset, home)
    day = dt.date.fromisoformat(FIRST_WEEK[-1])
    failing = dataset.vip_workspace_ids()[0]
    channel = dataset.channels_of(failing)[0]["id"]
    before = {p: b for p, b in exported_files(home).items() if p.startswith(f"{failing}/")}
    emulator.control.set_faults(failing_channels=[f"{failing}/{channel}"])
    next_day = day + dt.timedelta(days=1)
    result = cli(env, "run", "--from", str(next_day), "--to", str(next_day))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "label-overview run: error: 1 pair(s) failed, others published:"
        f" {failing}/{channel} ({next_day - dt.timedelta(days=2)}..{next_day}: /vip-messages"
    )
    after = exported_files(home)
    assert {p: b for p, b in after.items() if p.startswith(f"{failing}/")} == before
    emulator.control.set_faults(failing_channels=[])
    others = {
        path: body
        for path, body in api_answers(emulator, dataset, next_day).items()
        if not path.startswith(f"{failing}/")
    }
    assert others
    assert {p: b for p, b in after.items() if p in others} == others

    # `label-overview status` names the newest run's error for each pair it held back.
    status = cli(env, "status", "--json")
    assert status.returncode == 1
    document = json.loads(status.stdout)
    jsonschema.validate(document, label_overview_status_schema())
    errors = {(p["workspace_id"], p["channel_id"]): p["last_error"] for p in document["pairs"]}
    held_back = f"{failing}/{channel} ({next_day - dt.timedelta(days=2)}..{next_day})"
    assert errors[failing, channel].startswith("extract: /vip-messages")
    for other in dataset.channels_of(failing)[1:]:
        assert errors[failing, other["id"]] == (
            f"publish: workspace {failing}: extract failed for {held_back}; not publishing"
        )
    assert {pair: error for pair, error in errors.items() if pair[0] != failing} == dict.fromkeys(
        [(w, c["id"]) for w in dataset.vip_workspace_ids()[1:] for c in dataset.channels_of(w)]
    )


def test_a_stalling_api_ends_the_run_at_its_bound(tmp_path, emulator, dataset):
    # Every answer takes 0.3 s and the run may pull for 1 s: most requests are never sent.
    emulator.control.set_faults(latency_ms=300)
    env = pipeline_env(emulator, dataset, tmp_path)
    env["LABEL_OVERVIEW_RUN_TIMEOUT_S"] = "1"
    result = cli(env, "run", *DAYS)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    pairs = len({(w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)})
    assert last.startswith(f"label-overview run: error: {pairs} pair(s) failed, nothing published:")
    assert last.count("not sent, the run's time bound has passed") == pairs
    assert not (tmp_path / "exports").exists()
