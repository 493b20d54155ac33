"""Complete newest-first paging over /vip-messages, exact when messages share a millisecond.

The API returns the newest ``limit`` items with ``timestamp < before``, and its cursor is the
timestamp of the page's last item: echoing it would skip the rest of a millisecond group cut
by the page boundary. So a full page's trailing group is set aside and the next page asked
with ``before = T + 1``, which brings that group back whole at its top. A page that is a
single millisecond cannot advance: it is asked again at the largest page size, and if still
one millisecond, that millisecond is read in full from the export endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from label_overview.dynamo.errors import ResponseFormatError

MAX_PAGE_SIZE = 500

FetchPage = Callable[[int | None, int], Mapping[str, Any]]
FetchMillisecond = Callable[[int], list[dict[str, Any]]]


def newest_first(
    fetch_page: FetchPage,
    fetch_millisecond: FetchMillisecond,
    *,
    page_size: int,
    start_ms: int,
    end_ms: int,
) -> Iterator[dict[str, Any]]:
    """Every item of a window exactly once, newest first.

    Args:
        fetch_page: ``(before, limit) -> page body``; ``before=None`` asks for the newest page.
        fetch_millisecond: every item with one timestamp (from the export endpoint).
        page_size: the usual page size.
        start_ms: first millisecond of the window, to check the items against.
        end_ms: last millisecond of the window.
    """
    before: int | None = None
    limit = page_size
    while True:
        page = fetch_page(before, limit)
        items = check_page(page, start_ms=start_ms, end_ms=end_ms, before=before, limit=limit)
        if not page["mayHaveMore"]:
            yield from items
            return
        last = items[-1]["timestamp"]
        complete = [item for item in items if item["timestamp"] > last]
        if complete:
            yield from complete
            before, limit = last + 1, page_size
        elif limit < MAX_PAGE_SIZE:
            limit = MAX_PAGE_SIZE
        else:
            group = fetch_millisecond(last)
            # The page showed this many of the millisecond's messages: fewer from the export
            # would lose the rest without a word.
            if len(group) < len(items):
                raise ResponseFormatError(
                    f"the export holds {len(group)} messages at {last}, a page showed {len(items)}"
                )
            yield from group
            before, limit = last, page_size


def check_page(
    page: Mapping[str, Any], *, start_ms: int, end_ms: int, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The page's items, after checking the page against the contract.

    Raises:
        ResponseFormatError: wrong shape or types, a ``returned`` other than the items' count,
            more items than ``limit``, items outside the window or not before the cursor, not
            newest first, or ``mayHaveMore`` on an empty page.
    """
    items = page.get("items") if isinstance(page, Mapping) else None
    if not isinstance(items, list) or not isinstance(page.get("mayHaveMore"), bool):
        raise ResponseFormatError("vip-messages page lacks an items list or mayHaveMore flag")
    # A page that miscounts itself was cut or padded on the way: its items cannot be trusted.
    if type(page.get("returned")) is not int or page["returned"] != len(items):
        raise ResponseFormatError(
            f"vip-messages page holds {len(items)} items but says it returned"
            f" {str(page.get('returned'))[:20]}"
        )
    if len(items) > limit:
        raise ResponseFormatError(
            f"vip-messages page holds {len(items)} items, more than its limit {limit}"
        )
    if page["mayHaveMore"] and not items:
        raise ResponseFormatError("vip-messages page is empty but says it may have more")
    previous = None
    for index, item in enumerate(items):
        check_item(item, index)
        timestamp = item["timestamp"]
        if not start_ms <= timestamp <= end_ms:
            raise ResponseFormatError(f"vip-messages item {index} is outside the requested window")
        if before is not None and timestamp >= before:
            raise ResponseFormatError(f"vip-messages item {index} is not before the cursor")
        if previous is not None and timestamp > previous:
            raise ResponseFormatError(f"vip-messages item {index} breaks newest-first order")
        previous = timestamp
    return items


def check_item(item: Any, index: int) -> None:
    """Raise ResponseFormatError unless the item has the fields every metric needs."""
    # Exact type checks (``type(x) is int`` also rejects booleans): this runs per message.
    if type(item) is not dict:
        raise ResponseFormatError(f"vip-messages item {index} is not an object")
    if type(item.get("timestamp")) is not int:
        raise ResponseFormatError(f"vip-messages item {index} has no integer timestamp")
    conversation = item.get("conversationId")
    if type(conversation) is not str or not conversation:
        raise ResponseFormatError(f"vip-messages item {index} has no conversationId")
    for name in ("labels", "customLabelIds"):
        values = item.get(name)
        # Most lists are empty: skip building a generator for them.
        if type(values) is not list or (values and not all(type(v) is str for v in values)):
            raise ResponseFormatError(f"vip-messages item {index} has no {name} list of strings")
