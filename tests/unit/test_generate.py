"""The synthetic dataset generator: deterministic, and realistic in the ways tests rely on."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter

import pytest

from dynamo_emulator.dataset import ITEM_FIELDS, Dataset
from dynamo_emulator.generate import generate_dataset
from label_overview.windows import DAY_MS, day_start_ms

START = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    summary = generate_dataset(
        out, seed=42, start=START, days=5, workspaces=3, messages_per_day=150
    )
    return out, summary, Dataset.load(out)


def test_same_seed_same_bytes_other_seed_other_bytes(generated, tmp_path):
    out, _, _ = generated
    generate_dataset(
        tmp_path / "again", seed=42, start=START, days=5, workspaces=3, messages_per_day=150
    )
    generate_dataset(
        tmp_path / "other", seed=43, start=START, days=5, workspaces=3, messages_per_day=150
    )
    for name in ("messages.jsonl", "workspaces.json", "channels.json", "api_keys.json"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    assert (tmp_path / "other" / "messages.jsonl").read_bytes() != (
        out / "messages.jsonl"
    ).read_bytes()


def test_organization_shape(generated):
    _, summary, dataset = generated
    assert [w["type"] for w in dataset.workspaces] == ["VIP", "VIP", "VIP", "STANDARD"]
    assert summary.workspaces == 4 and summary.channels == 6
    shared = [
        c
        for c in dataset.channels
        if len(set(c["workspaceIds"]) & set(dataset.vip_workspace_ids())) == 2
    ]
    assert len(shared) == 1
    standard = dataset.workspaces[-1]["id"]
    assert any(standard in c["workspaceIds"] for c in dataset.channels)
    assert not any(m["workspaceId"] == standard for m in dataset.messages)
    assert {c["type"] for c in dataset.channels} == {"FB_PAGE", "INSTAGRAM_ACCOUNT"}
    assert len(dataset.api_keys[0]["secret"]) == 40


def test_messages_exercise_the_rules(generated):
    _, summary, dataset = generated
    messages = dataset.messages
    assert summary.messages == len(messages)
    assert all(list(m)[2:] == list(ITEM_FIELDS) for m in messages)
    start, end = day_start_ms(START), day_start_ms(START) + 5 * DAY_MS
    assert all(start <= m["timestamp"] < end for m in messages)
    unlabeled = sum(1 for m in messages if not m["labels"] and not m["customLabelIds"])
    assert 0.25 < unlabeled / len(messages) < 0.45
    assert any(len(m["labels"]) != len(set(m["labels"])) for m in messages)
    ties = Counter(
        (m["workspaceId"], m["mediumId"], m["conversationId"], m["timestamp"]) for m in messages
    )
    assert max(ties.values()) >= 2
    stamps = {m["timestamp"] % DAY_MS for m in messages}
    assert {0, DAY_MS - 1} <= stamps
    known = {label["id"] for label in dataset.custom_labels}
    used = {i for m in messages for i in m["customLabelIds"]}
    assert used - known and used & known
    spanning = {}
    for m in messages:
        spanning.setdefault(m["conversationId"], set()).add(m["timestamp"] // DAY_MS)
    assert max(len(days) for days in spanning.values()) >= 2


def test_cli_prints_one_summary_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dynamo_emulator.cli",
            "generate",
            "--out",
            str(tmp_path),
            "--days",
            "2",
            "--workspaces",
            "1",
            "--messages-per-day",
            "10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    count = len(Dataset.load(tmp_path).messages)
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path}: 2 workspaces, 2 channels, {count} messages"
        " from 2026-06-01 to 2026-06-02"
    ]
