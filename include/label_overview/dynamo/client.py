"""The Dynamo External API client: signed requests, retries in one place, typed errors."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from label_overview.dynamo.errors import (
    ResponseFormatError,
    RetriesExhaustedError,
    http_error,
)
from label_overview.dynamo.paging import check_item, newest_first
from label_overview.dynamo.retry import RetryPolicy, is_retryable_exception, is_retryable_status
from label_overview.dynamo.signing import Clock, DynamoAuth, format_x_date, utc_now
from label_overview.settings import Secret
from label_overview.windows import MAX_WINDOW_DAYS, Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelOverviewResponse:
    """One GET /label-overview answer, kept verbatim with what was asked and when."""

    params: dict[str, str]
    body: bytes
    document: dict[str, Any]
    fetched_at: str


class DynamoClient:
    """A client for one organization's key pair.

    Args:
        base_url: e.g. ``https://…/externalApi/v1`` (paths are joined below it).
        api_key: the public key id.
        api_secret: the secret; it signs requests and is never sent, logged or shown.
        timeout_s: per-request timeout.
        retry: the retry policy for 429, 5xx, timeouts and dropped connections.
        page_size: vip-messages page size (at most 500).
        clock: the time source for ``x-date`` (tests skew it).
        transport: an httpx transport (tests only).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: Secret | str,
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = 500,
        clock: Clock = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            auth=DynamoAuth(api_key, api_secret, clock),
            timeout=timeout_s,
            transport=transport,
        )
        self._timeout_s, self._transport = timeout_s, transport
        self._storage_client: httpx.Client | None = None
        self._storage_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DynamoClient(base_url={str(self._http.base_url)!r})"

    def __enter__(self) -> DynamoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        if self._storage_client is not None:
            self._storage_client.close()

    @property
    def _storage(self) -> httpx.Client:
        """Export CSVs live on storage URLs: fetched without the API's headers. Made on first
        use, since most runs never export."""
        with self._storage_lock:
            if self._storage_client is None:
                self._storage_client = httpx.Client(
                    timeout=self._timeout_s, transport=self._transport
                )
            return self._storage_client

    def organization(self) -> dict[str, Any]:
        return self._get_json("organizations")

    def workspaces(self) -> list[dict[str, Any]]:
        return self._get_json("workspaces")

    def channels(self, workspace_id: str | None = None) -> list[dict[str, Any]]:
        params = {"workspaceId": workspace_id} if workspace_id else {}
        return self._get_json("channels", params)

    def vip_messages(
        self,
        workspace_id: str,
        medium_id: str,
        window: Window,
        *,
        label: str | None = None,
        content_type: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every VIP message of the window, newest first; longer windows go in 31-day chunks."""
        for chunk in reversed(window.chunks(MAX_WINDOW_DAYS)):
            params = _window_params(
                workspace_id, medium_id, chunk, label=label, contentType=content_type
            )

            def fetch_page(before: int | None, limit: int, params=params) -> dict[str, Any]:
                extra = {"limit": str(limit)} | (
                    {"before": str(before)} if before is not None else {}
                )
                return self._get_json("vip-messages", params | extra)

            def fetch_millisecond(timestamp: int, params=params) -> list[dict[str, Any]]:
                log.info(
                    "a millisecond group too big to page at %d: reading it via export", timestamp
                )
                day = Window.from_ms(timestamp)
                rows = self._export_chunk(params | _window_params(workspace_id, medium_id, day))
                return [row for row in rows if row["timestamp"] == timestamp]

            yield from newest_first(
                fetch_page,
                fetch_millisecond,
                page_size=self.page_size,
                start_ms=chunk.start_ms,
                end_ms=chunk.end_ms,
            )

    def export_vip_messages(
        self,
        workspace_id: str,
        medium_id: str,
        window: Window,
        *,
        label: str | None = None,
        content_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every VIP message of the window through the CSV export, as vip-messages items."""
        rows: list[dict[str, Any]] = []
        for chunk in reversed(window.chunks(MAX_WINDOW_DAYS)):
            params = _window_params(
                workspace_id, medium_id, chunk, label=label, contentType=content_type
            )
            rows.extend(self._export_chunk(params))
        return rows

    def label_overview(
        self, workspace_id: str, medium_id: str, window: Window, group_by: str = "day"
    ) -> LabelOverviewResponse:
        """GET /label-overview for a window of at most 31 days.

        Longer windows are not split here: distinct counts over a window do not add up from
        its parts, so a caller must choose windows the API can answer.
        """
        window.check(MAX_WINDOW_DAYS)
        params = _window_params(workspace_id, medium_id, window) | {"groupBy": group_by}
        response = self._request(self._http, "label-overview", params)
        document = _parse_json(response, "label-overview")
        if not isinstance(document, dict) or "buckets" not in document:
            raise ResponseFormatError("label-overview answered a body that is not a label overview")
        return LabelOverviewResponse(
            params=params,
            body=response.content,
            document=document,
            fetched_at=format_x_date(self._clock()),
        )

    def _export_chunk(self, params: dict[str, str]) -> list[dict[str, Any]]:
        answer = self._get_json("vip-messages/export", params)
        if not isinstance(answer, dict) or not isinstance(answer.get("csvUrl"), str):
            raise ResponseFormatError("vip-messages/export answered no csvUrl")
        text = self._request(self._storage, answer["csvUrl"], {}).text
        rows = [
            _csv_item(row, index) for index, row in enumerate(csv.DictReader(io.StringIO(text)))
        ]
        if len(rows) != answer.get("totalCount"):
            raise ResponseFormatError(
                f"export CSV holds {len(rows)} rows, totalCount says {answer.get('totalCount')}"
            )
        return rows

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        return _parse_json(self._request(self._http, path, params or {}), path)

    def _request(self, http: httpx.Client, path: str, params: dict[str, str]) -> httpx.Response:
        """GET with the retry policy: each attempt a new, freshly signed request."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            try:
                response = http.get(path, params=params)
            except httpx.HTTPError as error:
                if not is_retryable_exception(error):
                    raise
                reason = f"{type(error).__name__}"
            else:
                if response.is_success:
                    return response
                if not is_retryable_status(response.status_code):
                    raise http_error(response.status_code, _body_of(response), _name(path))
                reason = f"HTTP {response.status_code}"
                retry_after = (
                    response.headers.get("Retry-After") if response.status_code == 429 else None
                )
            delay = self.retry.delay(attempt, retry_after)
            elapsed = time.monotonic() - started
            if not self.retry.allows(attempt, elapsed, delay):
                raise RetriesExhaustedError(_name(path), attempt, elapsed, reason)
            log.warning(
                "%s: %s, retry %d/%d in %.2fs",
                _name(path),
                reason,
                attempt,
                self.retry.max_attempts - 1,
                delay,
            )
            self.retry.sleep(delay)


def _window_params(
    workspace_id: str, medium_id: str, window: Window, **filters: str | None
) -> dict[str, str]:
    params = {
        "workspaceId": workspace_id,
        "mediumId": medium_id,
        "from": window.first_day.isoformat(),
        "to": window.last_day.isoformat(),
    }
    return params | {k: v for k, v in filters.items() if v is not None}


def _name(path: str) -> str:
    """A path for messages: storage URLs lose their (possibly signed) query string."""
    return "/" + path.split("?")[0].rsplit("/", 1)[-1] if "://" in path else f"/{path}"


def _body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _parse_json(response: httpx.Response, path: str) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise ResponseFormatError(f"/{path} answered malformed or truncated JSON") from None


def _csv_item(row: dict[str, str], index: int) -> dict[str, Any]:
    try:
        item: dict[str, Any] = dict(row)
        item["timestamp"] = int(row["timestamp"])
        item["labels"] = [v for v in (row.get("labels") or "").split(";") if v]
        item["customLabelIds"] = [v for v in (row.get("customLabelIds") or "").split(";") if v]
    except (KeyError, TypeError, ValueError):
        raise ResponseFormatError(f"export CSV row {index} is malformed") from None
    check_item(item, index)
    return item
