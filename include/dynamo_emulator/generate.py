"""Synthetic datasets: deterministic for a seed, realistic enough to exercise every rule.

What it makes, per the dataset format in ``dataset.py``: VIP workspaces plus one non-VIP
workspace; Facebook Pages and Instagram accounts, one shared by two workspaces; built-in and
custom labels (some custom ids deleted, so without metadata); unlabeled messages; repeated
labels inside a message; conversations spanning days; messages at 00:00:00.000 and
23:59:59.999; and millisecond ties, across conversations and inside one (a text and its
attachment sent together, or two identical copies).

With ``story=True`` (the demo's data) it also tells something a chart or a query can show:
labels at different rates, fewer messages at weekends, slow growth, one incident (``complaint``
spiking for two days on one channel), one channel quiet for a day, and late labels (a share of
the labeled messages get theirs a day after they were sent). Without it, every label is as
likely every day: the noise the tests' reference checks need, byte for byte as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from dynamo_emulator.dataset import Dataset
from label_overview.windows import DAY_MS, day_start_ms, iso_instant

BUILT_IN_LABELS = (
    "frustrated",
    "happy",
    "question",
    "purchase_intent",
    "complaint",
    "urgent",
    "churn_risk",
    "praise",
)
CUSTOM_LABEL_NAMES = ("Refund request", "Shipping delay", "VIP upsell", "Size question")
FIRST_NAMES = ("Ana", "Ben", "Chloé", "Dev", "Eun-ji", "Femi", "Gus", "Hana", "Ivo", "Jun")
TEXTS = ("hi!", "where is my order?", "love it", "need help asap", "is this in stock?", "ok")
KINDS = ("text",) * 14 + ("attachment", "attachment", "postback", "other")
SOURCES = {"FB_PAGE": "messenger", "INSTAGRAM_ACCOUNT": "instagram"}

# A story's label mix: how likely each built-in label is to be picked for a labeled message.
LABEL_WEIGHTS = {
    "question": 30,
    "happy": 18,
    "purchase_intent": 14,
    "frustrated": 10,
    "complaint": 8,
    "praise": 8,
    "urgent": 6,
    "churn_risk": 4,
}
# Monday first: weekends are quiet on a brand's pages.
WEEKDAY_VOLUME = (1.05, 1.1, 1.1, 1.05, 1.0, 0.55, 0.5)
DAILY_GROWTH = 0.012
INCIDENT_LABEL = "complaint"
INCIDENT_VOLUME = 1.4  # an incident brings more messages, not only angrier ones
INCIDENT_LABEL_SHARE = 0.6
LATE_LABEL_SHARE = 0.2


@dataclass(frozen=True)
class Story:
    """Where a story dataset's events are, so the demo can point at them and tests assert them."""

    incident_workspace_id: str
    incident_channel_id: str
    incident_days: tuple[dt.date, dt.date]
    quiet_workspace_id: str
    quiet_channel_id: str
    quiet_day: dt.date
    incident_label: str = INCIDENT_LABEL

    def spike(self, workspace_id: str, channel_id: str, day: dt.date) -> str | None:
        """The label spiking on this pair and day, if any."""
        incident = (self.incident_workspace_id, self.incident_channel_id)
        return (
            self.incident_label
            if (workspace_id, channel_id) == incident and (day in self.incident_days)
            else None
        )

    def volume(
        self, count: int, workspace_id: str, channel_id: str, day: dt.date, offset: int
    ) -> int:
        """A noise day's message count after the weekday rhythm, growth and events."""
        if (workspace_id, channel_id, day) == (
            self.quiet_workspace_id,
            self.quiet_channel_id,
            self.quiet_day,
        ):
            return 0
        spiking = self.spike(workspace_id, channel_id, day) is not None
        return round(
            count
            * WEEKDAY_VOLUME[day.weekday()]
            * (1 + DAILY_GROWTH * offset)
            * (INCIDENT_VOLUME if spiking else 1)
        )

    def __str__(self) -> str:
        first, last = self.incident_days
        return (
            f"incident: {self.incident_label} spikes on {self.incident_channel_id}"
            f" (workspace {self.incident_workspace_id}) on {first} and {last};"
            f" quiet: {self.quiet_channel_id} (workspace {self.quiet_workspace_id}) has no"
            f" messages on {self.quiet_day}; late labels: {LATE_LABEL_SHARE:.0%} of labeled"
            " messages get their labels a day after they were sent"
        )


@dataclass(frozen=True)
class GenerateSummary:
    path: Path
    workspaces: int
    channels: int
    messages: int
    first_day: dt.date
    last_day: dt.date
    story: Story | None = None

    def __str__(self) -> str:
        line = (
            f"wrote {self.path}: {self.workspaces} workspaces, {self.channels} channels,"
            f" {self.messages} messages from {self.first_day} to {self.last_day}"
        )
        return line if self.story is None else f"{line}\n{self.story}"


def generate_dataset(
    out: str | Path,
    *,
    seed: int = 1,
    start: dt.date,
    days: int = 28,
    workspaces: int = 3,
    channels_per_workspace: int = 2,
    messages_per_day: int = 200,
    story: bool = False,
) -> GenerateSummary:
    """Write a dataset directory; the same arguments always write the same bytes.

    Args:
        out: the directory (created if needed; its dataset files are replaced).
        seed: the random seed.
        start: first UTC day with messages.
        days: how many days have messages.
        workspaces: VIP workspaces (one non-VIP workspace is added).
        channels_per_workspace: channels connected to each VIP workspace.
        messages_per_day: roughly how many messages each workspace × channel gets a day (on
            a story's first weekday).
        story: add the rhythm, growth, incident, quiet day and late labels (module docstring);
            needs at least 7 days.
    """
    if days < 1 or workspaces < 1 or channels_per_workspace < 1 or messages_per_day < 0:
        raise ValueError("days, workspaces and channels must be at least 1")
    if story and days < 7:
        raise ValueError("a story needs at least 7 days")
    rng = random.Random(seed)
    root = Path(out)
    dataset = _organization(rng, seed, workspaces, channels_per_workspace)
    dataset.save(root)
    events = _story(dataset, start, days) if story else None
    count = 0
    with (root / "messages.jsonl").open("w", encoding="utf-8") as lines:
        for workspace_id in dataset.vip_workspace_ids():
            custom_ids = [
                label["id"]
                for label in dataset.custom_labels
                if label["workspaceId"] == workspace_id
            ]
            custom_ids.append(f"cl_deleted_{workspace_id[-4:]}")
            for channel in dataset.channels_of(workspace_id):
                for message in _channel_messages(
                    rng, workspace_id, channel, custom_ids, start, days, messages_per_day, events
                ):
                    lines.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
                    lines.write("\n")
                    count += 1
    return GenerateSummary(
        root,
        len(dataset.workspaces),
        len(dataset.channels),
        count,
        start,
        start + dt.timedelta(days=days - 1),
        events,
    )


def _story(dataset: Dataset, start: dt.date, days: int) -> Story:
    """The incident two thirds in, on the first workspace's first channel; the quiet day a
    third in, on the last workspace's last channel (another pair whenever there are two)."""
    first, last = dataset.vip_workspace_ids()[0], dataset.vip_workspace_ids()[-1]
    incident = start + dt.timedelta(days=days * 2 // 3)
    return Story(
        incident_workspace_id=first,
        incident_channel_id=dataset.channels_of(first)[0]["id"],
        incident_days=(incident, incident + dt.timedelta(days=1)),
        quiet_workspace_id=last,
        quiet_channel_id=dataset.channels_of(last)[-1]["id"],
        quiet_day=start + dt.timedelta(days=days // 3),
    )


def _organization(rng: random.Random, seed: int, workspaces: int, per_workspace: int) -> Dataset:
    secret = hashlib.sha1(f"label-overview-demo-secret-{seed}".encode()).hexdigest()
    vip = [
        {
            "id": f"ws_{rng.getrandbits(40):010x}",
            "name": f"Brand {index + 1}",
            "type": "VIP",
            "vipIndicator": "vip_tag",
            "vipIndicatorInProcess": False,
        }
        for index in range(workspaces)
    ]
    standard = {
        "id": f"ws_{rng.getrandbits(40):010x}",
        "name": "Support (no VIP)",
        "type": "STANDARD",
        "vipIndicator": "",
        "vipIndicatorInProcess": False,
    }
    channels = []
    for index, workspace in enumerate(vip):
        for number in range(per_workspace):
            kind = "FB_PAGE" if (index + number) % 2 == 0 else "INSTAGRAM_ACCOUNT"
            digits = (
                rng.randrange(10**14, 10**15)
                if kind == "FB_PAGE"
                else rng.randrange(10**16, 10**17)
            )
            channels.append(
                {
                    "id": f"{kind}_{digits}",
                    "type": kind,
                    "name": f"{workspace['name']} {kind.lower()} {number + 1}",
                    "workspaceIds": [workspace["id"]],
                }
            )
    if len(vip) >= 2:
        channels[0]["workspaceIds"].append(vip[1]["id"])
    channels[-1]["workspaceIds"].append(standard["id"])
    custom_labels = [
        {
            "workspaceId": workspace["id"],
            "id": f"cl_{rng.getrandbits(32):08x}",
            "name": name,
            "color": f"#{rng.getrandbits(24):06x}",
        }
        for workspace in vip
        for name in CUSTOM_LABEL_NAMES[:3]
    ]
    return Dataset(
        organization={"id": f"org_{seed}", "name": "Demo Retail Group", "active": True},
        api_keys=[{"key": f"dyn_key_{seed}", "secret": secret}],
        workspaces=[*vip, standard],
        channels=channels,
        custom_labels=custom_labels,
    )


def _channel_messages(rng, workspace_id, channel, custom_ids, start, days, per_day, story):
    source = SOURCES[channel["type"]]
    conversations: list[str] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        day_start = day_start_ms(day)
        # Some conversations go on from earlier days, others start today.
        conversations = conversations[-30:]
        for _ in range(max(1, per_day // 8)):
            conversations.append(f"t_{rng.getrandbits(48):012x}")
        count = max(0, per_day + rng.randint(-per_day // 10, per_day // 10))
        spike = None
        if story is not None:
            spike = story.spike(workspace_id, channel["id"], day)
            count = story.volume(count, workspace_id, channel["id"], day, offset)
        stamps = sorted(day_start + rng.randrange(DAY_MS) for _ in range(count))
        if count >= 4:
            stamps[0], stamps[-1] = day_start, day_start + DAY_MS - 1
        for position, timestamp in enumerate(stamps):
            conversation = rng.choice(conversations)
            message = _retold(
                rng,
                _message(
                    rng, workspace_id, channel["id"], source, custom_ids, conversation, timestamp
                ),
                story,
                spike,
            )
            yield message
            roll = rng.random()
            if roll < 0.03:
                # A text and its attachment sent together: same conversation, same millisecond.
                attachment = _message(
                    rng, workspace_id, channel["id"], source, custom_ids, conversation, timestamp
                )
                yield _retold(rng, {**attachment, "kind": "attachment"}, story, spike)
            elif roll < 0.04:
                yield dict(message)  # an identical copy: two messages, not one
            elif roll < 0.07 and position % 2:
                other = rng.choice(conversations)
                yield _retold(
                    rng,
                    _message(
                        rng, workspace_id, channel["id"], source, custom_ids, other, timestamp
                    ),
                    story,
                    spike,
                )


def _retold(rng, message, story, spike):
    """A noise message retold for a story (as is without one): its labels drawn from the
    story's mix, the incident's label ``spike`` on most messages of an incident day, and its
    labels late a day in five."""
    if story is None:
        return message
    labels = message["labels"]
    if labels:
        # Same number of labels and the same repeat, but the story's mix.
        distinct = _weighted_labels(rng, len(set(labels)))
        labels = distinct + distinct[:1] * (len(labels) - len(set(labels)))
    if spike is not None and rng.random() < INCIDENT_LABEL_SHARE and spike not in labels:
        labels = [spike, *labels]
    told = {**message, "labels": labels}
    if (labels or told["customLabelIds"]) and rng.random() < LATE_LABEL_SHARE:
        told["labeledAt"] = told["timestamp"] + DAY_MS
    return told


def _weighted_labels(rng, count):
    """``count`` distinct built-in labels, each drawn by the story's weights."""
    weights = dict(LABEL_WEIGHTS)
    chosen = []
    for _ in range(count):
        label = rng.choices(list(weights), weights=list(weights.values()))[0]
        chosen.append(label)
        del weights[label]
    return chosen


def _message(rng, workspace_id, medium_id, source, custom_ids, conversation, timestamp):
    roll = rng.random()
    labels: list[str] = []
    custom: list[str] = []
    if roll >= 0.35:
        labels = rng.sample(BUILT_IN_LABELS, rng.choice((1, 1, 1, 2, 2, 3)))
        if rng.random() < 0.05:
            labels.append(labels[0])  # the AI sometimes repeats a label
        if rng.random() < 0.3:
            custom = [rng.choice(custom_ids)]
            if rng.random() < 0.1:
                custom.append(custom[0])
    return {
        "workspaceId": workspace_id,
        "mediumId": medium_id,
        "timestamp": timestamp,
        "date": iso_instant(timestamp),
        "conversationId": conversation,
        "userName": f"{rng.choice(FIRST_NAMES)} {rng.choice('ABCDEFGHJKLMNPRSTVWZ')}.",
        "kind": rng.choice(KINDS),
        "source": source,
        "labels": labels,
        "customLabelIds": custom,
        "text": rng.choice(TEXTS),
    }
