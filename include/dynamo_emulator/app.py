"""The emulator's HTTP surface: the vendor's paths under /v1, export storage, and a control
surface for tests under /_control (no auth, never part of the vendor's API).

A vendor request is logged, delayed by the configured latency, maybe failed on purpose, and
otherwise checked in the vendor's order: authentication (403), organization active (402),
query shape (422), existence (404), business rules (400); then answered.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import secrets
import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dynamo_emulator.auth import authentication_failure
from dynamo_emulator.dataset import ITEM_FIELDS, item_of
from dynamo_emulator.faults import CORRUPTIONS as CORRUPTIONS  # where tests import it
from dynamo_emulator.faults import DroppedConnection, Faults, corrupt, throttled
from dynamo_emulator.reference import compute_label_overview
from dynamo_emulator.store import MessageStore, Query
from dynamo_emulator.validation import validate
from label_overview.overview import render_label_overview
from label_overview.windows import MAX_WINDOW_DAYS, Window, WindowError

DEFAULT_PAGE = 100
# Stored exports kept, newest; older URLs expire (404) like pre-signed ones do.
KEPT_EXPORTS = 256
DATA_ENDPOINTS = ("vip-messages", "vip-messages/export", "label-overview")


class ApiError(Exception):
    """An answer other than 200, raised by a check and turned into a JSON response."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _message(status: int, text: str) -> ApiError:
    return ApiError(status, {"message": text})


class Emulator:
    """State shared by the routes: the data, the faults, the request log, stored CSV exports."""

    def __init__(self, store: MessageStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self._lock = threading.Lock()
        self._request_log: list[dict[str, Any]] = []
        self._exports: dict[str, bytes] = {}

    def now(self) -> dt.datetime:
        """The server's clock: real UTC plus the offset set through the control surface."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.faults.clock_offset_s)

    def requests(self) -> list[dict[str, Any]]:
        """The vendor requests logged since the last clear, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._request_log]

    def clear_requests(self) -> None:
        with self._lock:
            self._request_log.clear()

    def keep_export(self, body: bytes) -> str:
        """Store a CSV export and return its token (the storage URL's file name)."""
        token = secrets.token_hex(12)
        with self._lock:
            self._exports[token] = body
            while len(self._exports) > KEPT_EXPORTS:
                del self._exports[next(iter(self._exports))]
        return token

    def export(self, token: str) -> bytes | None:
        with self._lock:
            return self._exports.get(token)

    def vendor_route(self, endpoint: str, handler: Callable[[Emulator, dict, Request], Response]):
        """An ASGI endpoint serving one vendor path with logging, faults and the checks."""

        async def route(request: Request) -> Response:
            received = self.now()
            entry = {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "xDate": request.headers.get("x-date"),
                "status": None,
            }
            with self._lock:
                self._request_log.append(entry)
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            response = self._injected_fault(endpoint, request)
            if response is None:
                # A worker thread: a large export must not stall the other requests.
                response = await run_in_threadpool(
                    self._answer, endpoint, handler, request, received
                )
                response = self._corrupted(endpoint, request, response)
            with self._lock:
                entry["status"] = (
                    "dropped" if isinstance(response, DroppedConnection) else response.status_code
                )
            return response

        return route

    def _injected_fault(self, endpoint: str, request: Request) -> Any:
        workspace_id = request.query_params.get("workspaceId")
        if endpoint in DATA_ENDPOINTS and workspace_id in self.faults.failing_workspaces:
            return JSONResponse({"message": "Workspace not found"}, status_code=404)
        channel = f"{workspace_id}/{request.query_params.get('mediumId')}"
        if endpoint in DATA_ENDPOINTS and channel in self.faults.failing_channels:
            return JSONResponse({"message": "Channel not found"}, status_code=404)
        if workspace_id in self.faults.unavailable_workspaces:
            return JSONResponse({"message": "Service unavailable"}, status_code=503)
        fault = self.faults.draw()
        if fault == "429":
            return throttled(self.faults.retry_after_s)
        if fault == "500":
            return JSONResponse({"message": "Internal server error"}, status_code=500)
        if fault == "503":
            return JSONResponse({"message": "Service unavailable"}, status_code=503)
        if fault == "drop":
            return DroppedConnection()
        return None

    def _corrupted(self, endpoint: str, request: Request, response: Response) -> Response:
        if response.status_code != 200:
            return response
        before = request.query_params.get("before")
        kind = self.faults.next_corruption(endpoint, has_cursor=before is not None)
        if kind == "empty_export":
            token = self.keep_export(",".join(ITEM_FIELDS).encode() + b"\n")
            url = f"{str(request.base_url).rstrip('/')}/_storage/{token}.csv"
            return JSONResponse({"totalCount": 0, "csvUrl": url})
        return corrupt(response.body, kind, before) if kind else response

    def _answer(self, endpoint: str, handler, request: Request, received: dt.datetime) -> Response:
        try:
            headers = {name.lower(): value for name, value in request.headers.items()}
            failure = authentication_failure(headers, self.store.secret_of, received)
            if failure:
                raise _message(403, failure)
            if not self.store.organization.get("active", True):
                raise _message(402, "Organization is inactive")
            values, errors = validate(endpoint, request.query_params)
            if errors:
                raise ApiError(422, {"error": errors})
            return handler(self, values, request)
        except ApiError as error:
            return JSONResponse(error.body, status_code=error.status)

    def checked_window(self, values: dict[str, Any]) -> Window:
        """Existence (404) then business rules (400) for a workspace, channel and window."""
        workspace = self.store.workspace(values["workspaceId"])
        if workspace is None:
            raise _message(404, "Workspace not found")
        channel = self.store.channel(values["mediumId"])
        if channel is None:
            raise _message(404, "Channel not found")
        if workspace.get("type") != "VIP":
            raise _message(400, "Workspace is not a VIP workspace")
        if workspace["id"] not in channel.get("workspaceIds", ()):
            raise _message(400, "Channel is not connected to the workspace")
        window = Window(values["from"], values["to"])
        try:
            window.check(MAX_WINDOW_DAYS)
        except WindowError as error:
            raise _message(400, str(error)) from None
        return window


def _query(values: dict[str, Any], window: Window, end_ms: int | None = None) -> Query:
    return Query(
        values["workspaceId"],
        values["mediumId"],
        window.start_ms,
        window.end_ms if end_ms is None else end_ms,
        label=values.get("label"),
        content_type=values.get("contentType"),
    )


def organizations(emulator: Emulator, values: dict, request: Request) -> Response:
    organization = emulator.store.organization
    return JSONResponse({"id": organization["id"], "name": organization["name"]})


def workspaces(emulator: Emulator, values: dict, request: Request) -> Response:
    return JSONResponse(emulator.store.workspaces)


def channels(emulator: Emulator, values: dict, request: Request) -> Response:
    store, workspace_id = emulator.store, values.get("workspaceId")
    if workspace_id is not None and store.workspace(workspace_id) is None:
        raise _message(404, "Workspace not found")
    with store.lock:
        chosen = [
            {"id": c["id"], "type": c["type"], "name": c["name"]}
            for c in store.channels
            if workspace_id is None or workspace_id in c.get("workspaceIds", ())
        ]
    return JSONResponse(chosen)


def vip_messages(emulator: Emulator, values: dict, request: Request) -> Response:
    window = emulator.checked_window(values)
    before = values.get("before")
    end_ms = window.end_ms if before is None else min(window.end_ms, before - 1)
    messages, more = emulator.store.page(
        _query(values, window, end_ms), values.get("limit", DEFAULT_PAGE)
    )
    items = [item_of(m) for m in messages]
    return JSONResponse(
        {
            "items": items,
            "returned": len(items),
            "mayHaveMore": more,
            "nextCursor": str(items[-1]["timestamp"]) if more else None,
        }
    )


def export(emulator: Emulator, values: dict, request: Request) -> Response:
    window = emulator.checked_window(values)
    messages = emulator.store.select(_query(values, window))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEM_FIELDS)
    for message in messages:
        item = item_of(message)
        item["labels"] = ";".join(item["labels"] or ())
        item["customLabelIds"] = ";".join(item["customLabelIds"] or ())
        writer.writerow([item[name] for name in ITEM_FIELDS])
    token = emulator.keep_export(out.getvalue().encode())
    url = f"{str(request.base_url).rstrip('/')}/_storage/{token}.csv"
    return JSONResponse({"totalCount": len(messages), "csvUrl": url})


def label_overview(emulator: Emulator, values: dict, request: Request) -> Response:
    window = emulator.checked_window(values)
    workspace_id = values["workspaceId"]
    document = compute_label_overview(
        emulator.store.select(_query(values, window)),
        workspace_id=workspace_id,
        medium_id=values["mediumId"],
        window=window,
        group_by=values.get("groupBy", "day"),
        custom_labels=emulator.store.custom_labels_of(workspace_id),
    )
    return Response(render_label_overview(document), media_type="application/json")


VENDOR_PATHS = (
    ("/v1/organizations", "organizations", organizations),
    ("/v1/workspaces", "workspaces", workspaces),
    ("/v1/channels", "channels", channels),
    ("/v1/vip-messages", "vip-messages", vip_messages),
    ("/v1/vip-messages/export", "vip-messages/export", export),
    ("/v1/label-overview", "label-overview", label_overview),
)


def build_app(emulator: Emulator) -> Starlette:
    """The Starlette app: vendor paths, export storage, control surface, JSON 404/405."""
    from dynamo_emulator.control import control_routes

    async def storage(request: Request) -> Response:
        # Stands for a pre-signed storage URL: no auth headers, no faults, not logged.
        body = emulator.export(request.path_params["token"])
        if body is None:
            return JSONResponse({"message": "Not found"}, status_code=404)
        return Response(body, media_type="text/csv; charset=utf-8")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return JSONResponse(
            {"message": error.detail}, status_code=error.status_code, headers=error.headers
        )

    routes = [Route(path, emulator.vendor_route(name, fn)) for path, name, fn in VENDOR_PATHS]
    routes.append(Route("/_storage/{token}.csv", storage))
    routes.extend(control_routes(emulator))
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})
