"""The label-overview document computed from messages: the spec's semantics in plain Python.

``compute_label_overview`` is the reference implementation the emulator serves (rendered by
``label_overview.overview.render_label_overview``) and the tests hold the pipeline's snapshots
to; the pipeline itself computes documents in DuckDB (``label_overview.documents``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from label_overview.windows import Window, bucket_key, day_of_ms

LabelCounts = dict[str, dict[str, int]]


def message_labels(message: Mapping[str, Any]) -> set[str]:
    """A message's labels: built-in values and custom ids, duplicates removed."""
    return set(message.get("labels") or ()) | set(message.get("customLabelIds") or ())


def label_metadata(
    label_ids: Iterable[str], custom_labels: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``customLabels`` entries for custom label ids; unknown ids get name = id, color null."""
    entries = {}
    for label_id in sorted(label_ids):
        meta = custom_labels.get(label_id)
        entries[label_id] = (
            {"name": meta["name"], "color": meta.get("color")}
            if meta is not None
            else {"name": label_id, "color": None}
        )
    return entries


def compute_label_overview(
    messages: Iterable[Mapping[str, Any]],
    *,
    workspace_id: str,
    medium_id: str,
    window: Window,
    group_by: str,
    custom_labels: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Compute GET /label-overview for one workspace and channel from its VIP messages.

    Args:
        messages: the workspace's VIP user messages on the channel (any window; those
            outside ``window`` are ignored).
        workspace_id: echoed in the document.
        medium_id: echoed in the document.
        window: the requested UTC days.
        group_by: ``day`` or ``week``.
        custom_labels: the workspace's custom label metadata by id.

    Returns:
        The document, keys in the spec's order, ready for ``render_label_overview``.
    """
    label_messages: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    label_conversations: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    total_counts: dict[str, int] = defaultdict(int)
    total_conversations: dict[str, set[str]] = defaultdict(set)
    activity_messages: dict[str, int] = defaultdict(int)
    activity_conversations: dict[str, set[str]] = defaultdict(set)
    custom_ids: set[str] = set()

    for message in messages:
        timestamp = message["timestamp"]
        if not window.contains_ms(timestamp):
            continue
        bucket = bucket_key(day_of_ms(timestamp), group_by)
        conversation = message["conversationId"]
        activity_messages[bucket] += 1
        activity_conversations[bucket].add(conversation)
        custom_ids.update(message.get("customLabelIds") or ())
        for label in message_labels(message):
            label_messages[bucket][label] += 1
            label_conversations[bucket][label].add(conversation)
            total_counts[label] += 1
            total_conversations[label].add(conversation)

    buckets = {
        key: {
            label: _counts(label_messages[key][label], len(label_conversations[key][label]))
            for label in sorted(label_messages.get(key, ()))
        }
        for key in window.bucket_keys(group_by)
    }
    activity = {
        key: {
            "userMessages": activity_messages.get(key, 0),
            "activeConversations": len(activity_conversations.get(key, ())),
        }
        for key in window.bucket_keys(group_by)
    }
    active = set().union(*activity_conversations.values())
    return assemble_label_overview(
        workspace_id=workspace_id,
        medium_id=medium_id,
        window=window,
        group_by=group_by,
        buckets=buckets,
        totals={
            label: _counts(total_counts[label], len(total_conversations[label]))
            for label in total_counts
        },
        activity=activity,
        activity_totals={
            "userMessages": sum(activity_messages.values()),
            "activeConversations": len(active),
        },
        custom_labels=label_metadata(custom_ids & set(total_counts), custom_labels),
    )


def _counts(count: int, unique_conversations: int) -> dict[str, int]:
    return {"count": count, "uniqueConversations": unique_conversations}


def assemble_label_overview(
    *,
    workspace_id: str,
    medium_id: str,
    window: Window,
    group_by: str,
    buckets: Mapping[str, LabelCounts],
    totals: LabelCounts,
    activity: Mapping[str, Mapping[str, int]],
    activity_totals: Mapping[str, int],
    custom_labels: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Put computed parts into the document's fixed shape and key order.

    Every bucket overlapping the window is present in ``buckets`` and ``activity`` (the
    caller's missing buckets become ``{}`` and zeros); inner keys are sorted.
    """
    keys = window.bucket_keys(group_by)
    return {
        "workspaceId": workspace_id,
        "mediumId": medium_id,
        "groupBy": group_by,
        "from": window.from_instant,
        "to": window.to_instant,
        "buckets": {key: _sorted_counts(buckets.get(key, {})) for key in keys},
        "totals": _sorted_counts(totals),
        "activity": {
            key: {
                "userMessages": int(activity.get(key, {}).get("userMessages", 0)),
                "activeConversations": int(activity.get(key, {}).get("activeConversations", 0)),
            }
            for key in keys
        },
        "activityTotals": {
            "userMessages": int(activity_totals["userMessages"]),
            "activeConversations": int(activity_totals["activeConversations"]),
        },
        "customLabels": {
            label: {"name": meta["name"], "color": meta["color"]}
            for label, meta in sorted(custom_labels.items())
        },
        "conversationsScanned": int(activity_totals["activeConversations"]),
    }


def _sorted_counts(counts: LabelCounts) -> LabelCounts:
    # The values are already {"count", "uniqueConversations"} in that order: only the labels
    # need sorting.
    return {label: counts[label] for label in sorted(counts)}
