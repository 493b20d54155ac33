"""Extract: pull VIP messages and label-overview responses for a window and land them.

The unit of work is one workspace × channel pair over the days its plan names; the Airflow DAG
maps ``extract_pair`` over pairs, the CLI runs them with bounded concurrency.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from label_overview import landing
from label_overview.dynamo.client import DynamoClient
from label_overview.dynamo.errors import DynamoError, ResponseFormatError
from label_overview.dynamo.retry import RetryPolicy
from label_overview.files import UnsafeIdError, safe_id, shown_id
from label_overview.settings import Settings
from label_overview.windows import Window, iso_instant

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Pair:
    """One VIP workspace and one channel connected to it."""

    workspace_id: str
    channel_id: str

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.channel_id}"


@dataclass(frozen=True)
class PairExtract:
    """What one pair's extraction landed."""

    pair: Pair
    messages: int
    message_partitions: int
    overview_responses: int


def open_client(settings: Settings, *, stop_at: float | None = None) -> DynamoClient:
    """A client for the API the settings name (raises SettingsError when they are incomplete);
    ``stop_at`` (a ``time.monotonic()`` instant) bounds every request it makes."""
    settings.require_api()
    return DynamoClient(
        settings.api_base_url,
        settings.api_key,
        settings.api_secret,
        timeout_s=settings.request_timeout_s,
        deadline_s=settings.request_deadline_s,
        stop_at=stop_at,
        page_size=settings.page_size,
        retry=RetryPolicy(max_total_s=settings.retry_max_total_s),
    )


@dataclass(frozen=True)
class Discovery:
    """The pairs to pull, the workspaces whose channels could not be listed, and the listings
    behind them (``landing.land_reference`` lands them for dbt's dims)."""

    pairs: list[Pair]
    failed_workspaces: dict[str, str]
    workspaces: list[dict]
    channels: dict[str, list[dict]]


def discover_pairs(client: DynamoClient, workspace_ids: Sequence[str] | None = None) -> Discovery:
    """List VIP workspaces × their channels.

    What the listings hold that cannot be landed safely fails its workspace alone, in
    ``failed_workspaces``; so does a channel list that cannot be read. Harmless oddities (a
    repeated row, a type this project does not know) are kept once and logged.

    Args:
        client: an open API client.
        workspace_ids: restrict to these workspaces (each must exist and be VIP).

    Raises:
        LookupError: a requested workspace is unknown or not VIP.
        ResponseFormatError: /workspaces did not answer a list.
    """
    workspaces, failed = _distinct_rows(
        client.workspaces(), "/workspaces", matters=lambda row: row.get("type") == "VIP"
    )
    vip_ids = [w["id"] for w in workspaces if w.get("type") == "VIP"]
    if workspace_ids:
        unknown = sorted(set(workspace_ids) - set(vip_ids) - set(failed))
        if unknown:
            raise LookupError(f"not a VIP workspace of this organization: {', '.join(unknown)}")
        vip_ids = [w for w in vip_ids if w in set(workspace_ids)]
        failed = {name: error for name, error in failed.items() if name in set(workspace_ids)}
    pairs, listed = [], {}
    for workspace_id in vip_ids:
        try:
            safe_id(workspace_id, what="workspace id")
            channels, problems = _distinct_rows(client.channels(workspace_id), "/channels")
            if problems:
                raise ResponseFormatError("; ".join(f"{k} {v}" for k, v in problems.items()))
            for channel in channels:
                safe_id(channel["id"], what="channel id")
        except (DynamoError, UnsafeIdError) as error:
            name = shown_id(workspace_id)
            log.error("listing the channels of %s failed: %s", name, error)
            failed[name] = f"listing its channels failed: {error}"
            continue
        listed[workspace_id] = channels
        pairs.extend(Pair(workspace_id, channel["id"]) for channel in channels)
    return Discovery(sorted(pairs), failed, workspaces, listed)


def _distinct_rows(
    listed: object, path: str, *, matters: Callable[[dict], bool] = lambda row: True
) -> tuple[list[dict], dict[str, str]]:
    """A reference listing's rows with an id, each id once, and the problems of the rows that
    ``matters`` says are pulled (by shortened id, or ``item N`` for a row without one).

    A row repeated with the same fields is kept once. Rows that cannot be kept (no id, or one
    id listed with different fields) are dropped; where none of them matters that is only
    logged.

    Raises:
        ResponseFormatError: the listing is not a list.
    """
    if not isinstance(listed, list):
        raise ResponseFormatError(f"{path} answered {type(listed).__name__}, not a list")
    by_id: dict[str, list[dict]] = defaultdict(list)
    problems: dict[str, str] = {}
    for index, row in enumerate(listed):
        if isinstance(row, dict) and isinstance(row.get("id"), str) and row["id"]:
            if row in by_id[row["id"]]:
                log.warning("%s lists %s twice: kept once", path, shown_id(row["id"]))
            else:
                by_id[row["id"]].append(row)
        elif not isinstance(row, dict) or matters(row):
            problems[f"{path} item {index}"] = "has no id"
        else:
            log.warning("%s item %d has no id: dropped", path, index)
    kept = []
    for key, rows in by_id.items():
        if len(rows) == 1:
            kept.append(rows[0])
        elif any(matters(row) for row in rows):
            problems[shown_id(key)] = "is listed twice with different fields"
        else:
            log.warning("%s lists %s twice with different fields: dropped", path, key)
    return kept, problems


def extract_pair(
    client: DynamoClient,
    settings: Settings,
    pair: Pair,
    windows: Sequence[Window],
    *,
    run_id: str,
) -> PairExtract:
    """Pull and land one pair's data for the days of ``windows``, as the settings' mode says.

    Every day gets its partitions replaced, empty days included, so a day whose messages
    vanished upstream is emptied here too; ``run_id`` is recorded beside each partition.
    """
    messages = partitions = responses = 0
    if settings.mode in ("messages", "both"):
        for window in windows:
            landed, days = _land_messages(client, settings, pair, window, run_id)
            messages, partitions = messages + landed, partitions + days
    if settings.mode in ("label-overview", "both"):
        responses = _land_overviews(client, settings, pair, windows, run_id)
    log.info(
        "landed %s %s: %d messages in %d day partitions, %d label-overview responses",
        pair,
        ", ".join(map(str, windows)),
        messages,
        partitions,
        responses,
    )
    return PairExtract(pair, messages, partitions, responses)


def _land_messages(
    client: DynamoClient, settings: Settings, pair: Pair, window: Window, run_id: str
) -> tuple[int, int]:
    with landing.MessagePartitions(
        settings.root.landing, pair.workspace_id, pair.channel_id, keep_text=settings.keep_text
    ) as partitions:
        for item in client.vip_messages(pair.workspace_id, pair.channel_id, window):
            partitions.add(item)
        total = partitions.write(
            window.days(), fetched_at=iso_instant(int(time.time() * 1000)), run_id=run_id
        )
    return total, window.day_count


def _land_overviews(
    client: DynamoClient, settings: Settings, pair: Pair, windows: Sequence[Window], run_id: str
) -> int:
    # One day per request keeps each landed response a whole partition; weeks are pulled whole
    # (Monday..Sunday) so their distinct counts cover the full ISO week, once even when two
    # windows touch the same week.
    periods = [("day", Window(day, day)) for window in windows for day in window.days()]
    periods += [("week", week) for week in sorted({w for v in windows for w in v.iso_weeks()})]
    for group_by, period in periods:
        response = client.label_overview(pair.workspace_id, pair.channel_id, period, group_by)
        path = landing.overview_partition_path(
            settings.root.landing, pair.workspace_id, pair.channel_id, group_by, period.first_day
        )
        landing.write_overview_partition(
            path,
            params=response.params,
            body=response.body,
            fetched_at=response.fetched_at,
            run_id=run_id,
        )
    return len(periods)
