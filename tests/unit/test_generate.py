"""The synthetic dataset generator: deterministic, and realistic in the ways tests rely on."""

from __future__ import annotations

import datetime as dt
import hashlib
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


def test_noise_is_byte_for_byte_what_it_was(generated):
    # The tests' datasets (no story) must not move when the story changes.
    out, _, _ = generated
    digest = hashlib.sha256((out / "messages.jsonl").read_bytes()).hexdigest()
    assert digest == "9c1328cd3a721168861a264387d66581ebcb1b7637515365190ae43e243999f5"


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    out = tmp_path_factory.mktemp("story")
    summary = generate_dataset(
        out, seed=7, start=START, days=14, workspaces=2, messages_per_day=40, story=True
    )
    return summary.story, Dataset.load(out)


def per_day(messages, keep=lambda message: True) -> list[int]:
    counts = Counter(m["timestamp"] // DAY_MS for m in messages if keep(m))
    first = day_start_ms(START) // DAY_MS
    return [counts[first + offset] for offset in range(14)]


def test_a_story_places_its_incident_and_quiet_day_on_known_pairs(story):
    events, dataset = story
    first, last = dataset.vip_workspace_ids()
    assert (events.incident_workspace_id, events.incident_channel_id) == (
        first,
        dataset.channels_of(first)[0]["id"],
    )
    assert (events.quiet_workspace_id, events.quiet_channel_id) == (
        last,
        dataset.channels_of(last)[-1]["id"],
    )
    assert events.incident_days == (dt.date(2026, 6, 10), dt.date(2026, 6, 11))
    assert (events.incident_label, events.quiet_day) == ("complaint", dt.date(2026, 6, 5))


def test_the_incident_is_two_days_of_complaints_on_one_channel(story):
    events, dataset = story
    pairs = dataset.messages_by_pair()
    incident = pairs[events.incident_workspace_id, events.incident_channel_id]
    complaints = per_day(incident, lambda m: "complaint" in m["labels"])
    assert complaints == [5, 5, 4, 3, 3, 2, 5, 5, 8, 45, 39, 2, 1, 2]
    for pair, messages in pairs.items():
        if pair != (events.incident_workspace_id, events.incident_channel_id):
            assert max(per_day(messages, lambda m: "complaint" in m["labels"])) < 12, pair


def test_the_quiet_channel_has_no_messages_that_day_only(story):
    events, dataset = story
    for pair, messages in dataset.messages_by_pair().items():
        counts = per_day(messages)
        if pair == (events.quiet_workspace_id, events.quiet_channel_id):
            assert counts[4] == 0  # 2026-06-05
            assert min(counts[:4] + counts[5:]) > 0
        else:
            assert min(counts) > 0, pair


def test_weekends_are_quiet_and_the_volume_grows(story):
    _, dataset = story
    totals = per_day(dataset.messages)
    assert totals == [221, 235, 245, 246, 169, 125, 125, 232, 251, 272, 250, 229, 133, 122]
    weekends = [totals[day] for day in (5, 6, 12, 13)]  # June 6-7 and 13-14
    weekdays = [count for day, count in enumerate(totals) if day not in (5, 6, 12, 13)]
    assert max(weekends) < min(weekdays)
    assert sum(totals[7:12]) > sum(totals[:5])


def test_a_fifth_of_labeled_messages_get_their_labels_a_day_late(story):
    _, dataset = story
    labeled = [m for m in dataset.messages if m["labels"] or m["customLabelIds"]]
    late = [m for m in dataset.messages if "labeledAt" in m]
    assert (len(dataset.messages), len(labeled), len(late)) == (2855, 1927, 388)
    assert all(m["labeledAt"] == m["timestamp"] + DAY_MS for m in late)
    assert all(m["labels"] or m["customLabelIds"] for m in late)
    assert all(list(m)[2:] == [*ITEM_FIELDS, "labeledAt"] for m in late)


def test_a_story_needs_a_week(tmp_path):
    with pytest.raises(ValueError, match="a story needs at least 7 days"):
        generate_dataset(tmp_path, start=START, days=6, story=True)
