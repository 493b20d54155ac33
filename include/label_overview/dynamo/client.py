"""The Dynamo External API client: signed requests, retries in one place, typed errors."""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from label_overview.dynamo.errors import (
    DynamoError,
    ResponseFormatError,
    RunBoundError,
    describe_exception,
    http_error,
)
from label_overview.dynamo.paging import MAX_PAGE_SIZE, check_item, newest_first
from label_overview.dynamo.retry import RetryPolicy
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
        timeout_s: per-request timeout of each step (connect, each read), which a server
            that sends a byte now and then never trips.
        deadline_s: a response's whole body must have arrived this many seconds after the
            request went out, however it trickles in (then it is a timeout, retried).
        stop_at: a ``time.monotonic()`` instant after which no request starts and no body
            keeps arriving: the bound of the run this client serves.
        retry: the retry policy for 429, 5xx, timeouts and dropped connections.
        page_size: vip-messages page size (1 to 500).
        clock: the time source for ``x-date``, UTC now by default (tests skew it).
        transport: an httpx transport (tests only).

    Raises:
        ValueError: a page size outside 1..500, or a timeout or deadline that is not positive.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: Secret | str,
        *,
        timeout_s: float = 30.0,
        deadline_s: float = 120.0,
        stop_at: float | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 500,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must lie in 1..{MAX_PAGE_SIZE}, got {page_size}")
        if not timeout_s > 0 or not deadline_s > 0:
            raise ValueError(
                f"timeout_s and deadline_s must be positive, got {timeout_s}, {deadline_s}"
            )
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self._clock = clock or utc_now
        self._stop_at = stop_at
        self._transport = DeadlineTransport(transport or httpx.HTTPTransport(), deadline_s, stop_at)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            auth=DynamoAuth(api_key, api_secret, self._clock),
            timeout=timeout_s,
            transport=self._transport,
        )
        self._timeout_s = timeout_s
        self._storage_client: httpx.Client | None = None
        self._storage_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DynamoClient(base_url={str(self._http.base_url)!r})"

    def __enter__(self) -> DynamoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pools."""
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
        """GET /organizations: the organization the key belongs to, ``{"id", "name"}``."""
        return self._get_json("organizations")

    def workspaces(self) -> list[dict[str, Any]]:
        """GET /workspaces: every workspace of the organization, VIP or not."""
        return self._get_json("workspaces")

    def channels(self, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """GET /channels: the organization's channels, or only those connected to a workspace."""
        params = {"workspaceId": workspace_id} if workspace_id else {}
        return self._get_json("channels", params)

    def vip_messages(
        self,
        workspace_id: str,
        channel_id: str,
        window: Window,
        *,
        label: str | None = None,
        content_type: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every VIP message of the window exactly once, newest first, as the API gives items.

        Windows over 31 days are read in 31-day chunks, newest chunk first; millisecond groups
        cut by a page boundary are re-read whole (see ``paging``).

        Raises:
            ResponseFormatError: a page breaks the contract (shape, types, window, order).
            DynamoHTTPError: a final error answer; RetriesExhaustedError: retries ran out.
        """
        for chunk in reversed(window.chunks(MAX_WINDOW_DAYS)):
            params = _window_params(
                workspace_id, channel_id, chunk, label=label, contentType=content_type
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
                rows = self._export_chunk(params | _window_params(workspace_id, channel_id, day))
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
        channel_id: str,
        window: Window,
        *,
        label: str | None = None,
        content_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every VIP message of the window through the CSV export, as vip-messages items.

        The CSV is fetched from its storage URL without the API's headers (the key and
        signature are for the API only), under the same retry policy.

        Raises:
            ResponseFormatError: a malformed row, or a row count other than ``totalCount``.
        """
        rows: list[dict[str, Any]] = []
        for chunk in reversed(window.chunks(MAX_WINDOW_DAYS)):
            params = _window_params(
                workspace_id, channel_id, chunk, label=label, contentType=content_type
            )
            rows.extend(self._export_chunk(params))
        return rows

    def label_overview(
        self, workspace_id: str, channel_id: str, window: Window, group_by: str = "day"
    ) -> LabelOverviewResponse:
        """GET /label-overview for a window of at most 31 days.

        Longer windows are not split here: distinct counts over a window do not add up from
        its parts, so a caller must choose windows the API can answer.

        Raises:
            WindowError: the window is longer than 31 days.
            ResponseFormatError: the body is not JSON or not a label overview.
        """
        window.check(MAX_WINDOW_DAYS)
        params = _window_params(workspace_id, channel_id, window) | {"groupBy": group_by}
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
        """GET under the retry policy, each attempt a new request that the auth signs anew.

        Raises:
            DynamoHTTPError: a final (non-retryable) error status, typed by status.
            RetriesExhaustedError: retryable failures outlasted the policy.
            DynamoError: a transport failure no retry can cure.
        """
        name = _name(path)

        def send() -> httpx.Response:
            # Checked before every attempt: retries stop at the bound too.
            if self._stop_at is not None and time.monotonic() >= self._stop_at:
                raise RunBoundError(f"{name}: not sent, the run's time bound has passed")
            return http.get(path, params=params)

        try:
            response = self.retry.run(send, name)
        except httpx.HTTPError as error:
            raise DynamoError(f"{name}: {describe_exception(error)}") from error
        if not response.is_success:
            raise http_error(response.status_code, _body_of(response), name)
        return response


class DeadlineTransport(httpx.BaseTransport):
    """A transport whose responses must arrive whole within ``deadline_s`` of their request
    (and before ``stop_at``, a ``time.monotonic()`` instant, when given).

    httpx's read timeout restarts with every byte, so a server that trickles its body keeps a
    request alive for ever; this one counts the body's whole time, and the headers' time
    toward it, and ends the response with a ReadTimeout, which the retry policy retries.
    """

    def __init__(
        self, inner: httpx.BaseTransport, deadline_s: float, stop_at: float | None = None
    ) -> None:
        self._inner, self._deadline_s, self._stop_at = inner, deadline_s, stop_at

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._deadline_s
        if self._stop_at is not None:
            deadline = min(deadline, self._stop_at)
        response = self._inner.handle_request(request)
        response.stream = _DeadlineStream(response.stream, deadline, request, self._deadline_s)
        return response

    def close(self) -> None:
        self._inner.close()


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(
        self, stream: httpx.SyncByteStream, deadline: float, request: httpx.Request, budget_s: float
    ) -> None:
        self._stream, self._deadline, self._request = stream, deadline, request
        self._budget_s = budget_s

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout(
                    f"the response did not arrive whole within {self._budget_s:g}s"
                    " (or the run's time bound passed)",
                    request=self._request,
                )
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _window_params(
    workspace_id: str, channel_id: str, window: Window, **filters: str | None
) -> dict[str, str]:
    params = {
        "workspaceId": workspace_id,
        "mediumId": channel_id,
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
        return orjson.loads(response.content)
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
