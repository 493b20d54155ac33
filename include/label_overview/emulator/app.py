"""The emulator's HTTP surface: the vendor's paths under /v1, export storage, and a control
surface for tests under /_control (no auth, never part of the vendor's API)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import secrets
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from label_overview.dataset import ITEM_FIELDS, item_of
from label_overview.emulator.auth import authentication_failure
from label_overview.emulator.faults import Faults
from label_overview.emulator.store import MessageStore
from label_overview.emulator.validation import validate
from label_overview.overview import compute_label_overview, render_label_overview
from label_overview.windows import MAX_WINDOW_DAYS, Window, WindowError

DEFAULT_PAGE = 100


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _message(status: int, text: str) -> ApiError:
    return ApiError(status, {"message": text})


class DroppedConnection:
    """A response that promises more bytes than it sends, then aborts: a dropped connection."""

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"items": [', "more_body": True})
        raise ConnectionAbortedError("emulator dropped the connection on purpose")


class Emulator:
    """State shared by the routes: the data, the faults, the request log, stored CSV exports."""

    def __init__(self, store: MessageStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self.request_log: list[dict[str, Any]] = []
        self.exports: dict[str, bytes] = {}

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.faults.clock_offset_s)

    def vendor(self, endpoint: str, handler: Callable[[dict, Request], Any]):
        async def route(request: Request):
            entry = {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "xDate": request.headers.get("x-date"),
                "status": None,
            }
            with self.store.lock:
                self.request_log.append(entry)
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            response = self._injected_fault(request)
            if response is None:
                try:
                    response = self._answer(endpoint, handler, request)
                except ApiError as error:
                    response = JSONResponse(error.body, status_code=error.status)
                corruption = self.faults.next_corruption(
                    endpoint, has_cursor="before" in request.query_params
                )
                if corruption and response.status_code == 200:
                    response = corrupt(response, corruption, request)
            entry["status"] = (
                "dropped" if isinstance(response, DroppedConnection) else response.status_code
            )
            return response

        return route

    def _injected_fault(self, request: Request):
        workspace_id = request.query_params.get("workspaceId")
        # Data pulls only: discovery still lists the workspace, as when it is deleted mid-run.
        is_data = request.url.path.endswith(("/vip-messages", "/export", "/label-overview"))
        if is_data and workspace_id in self.faults.failing_workspaces:
            return JSONResponse({"message": "Workspace not found"}, status_code=404)
        if workspace_id in self.faults.unavailable_workspaces:
            return JSONResponse({"message": "Service unavailable"}, status_code=503)
        fault = self.faults.draw()
        if fault == "429":
            headers = {"Retry-After": str(self.faults.retry_after_s)}
            return JSONResponse({"message": "Too many requests"}, status_code=429, headers=headers)
        if fault in ("500", "503"):
            return JSONResponse({"message": "Internal error"}, status_code=int(fault))
        if fault == "drop":
            return DroppedConnection()
        return None

    def _answer(self, endpoint: str, handler, request: Request) -> Response:
        failure = authentication_failure(
            {k.lower(): v for k, v in request.headers.items()}, self.store.secret_of, self.now()
        )
        if failure:
            raise _message(403, failure)
        if not self.store.dataset.organization.get("active", True):
            raise _message(402, "Organization is inactive")
        if endpoint in ("organizations", "workspaces"):
            return handler({}, request)
        values, errors = validate(endpoint, request.query_params)
        if errors:
            raise ApiError(422, {"error": errors})
        return handler(values, request)

    def checked_pair(self, values: dict) -> Window:
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

    def matching(self, values: dict, window: Window, before: int | None = None):
        """Items of the pair in the window, newest first, after the label/contentType filters."""
        end = window.end_ms if before is None else min(window.end_ms, before - 1)
        label, content_type = values.get("label"), values.get("contentType")
        for message in self.store.newest_first(
            values["workspaceId"], values["mediumId"], window.start_ms, end
        ):
            if content_type and message.get("kind") != content_type:
                continue
            if (
                label
                and label not in message.get("labels", ())
                and label not in message.get("customLabelIds", ())
            ):
                continue
            yield message


CORRUPTIONS = (
    "malformed_json",
    "truncated",
    "missing_field",
    "wrong_type",
    "outside_window",
    "duplicate_page",
)


def corrupt(response: Response, kind: str, request: Request) -> Response:
    """A 200 answer spoiled the way a broken upstream or proxy spoils one."""
    body = response.body
    if kind == "malformed_json":
        return Response(b"{items: [oops", media_type="application/json")
    if kind == "truncated":
        return Response(body[: len(body) // 2], media_type="application/json")
    page = json.loads(body)
    items = page.get("items") or [{}]
    if kind == "missing_field":
        items[0].pop("conversationId", None)
    elif kind == "wrong_type":
        items[0]["timestamp"] = str(items[0].get("timestamp"))
    elif kind == "outside_window":
        items[0]["timestamp"] = 0
    elif kind == "duplicate_page":
        # The page before this one again, as if the cursor had been ignored.
        items[0]["timestamp"] = int(request.query_params["before"])
    page["items"] = items
    return JSONResponse(page)


def build_app(emulator: Emulator) -> Starlette:
    store = emulator.store

    def organizations(values, request):
        organization = store.dataset.organization
        return JSONResponse({"id": organization["id"], "name": organization["name"]})

    def workspaces(values, request):
        return JSONResponse(store.dataset.workspaces)

    def channels(values, request):
        workspace_id = values.get("workspaceId")
        if workspace_id is not None and store.workspace(workspace_id) is None:
            raise _message(404, "Workspace not found")
        return JSONResponse(
            [
                {"id": c["id"], "type": c["type"], "name": c["name"]}
                for c in store.dataset.channels
                if workspace_id is None or workspace_id in c.get("workspaceIds", ())
            ]
        )

    def vip_messages(values, request):
        window = emulator.checked_pair(values)
        limit = values.get("limit", DEFAULT_PAGE)
        with store.lock:
            found = list(
                itertools.islice(emulator.matching(values, window, values.get("before")), limit + 1)
            )
        page = [item_of(m) for m in found[:limit]]
        more = len(found) > limit
        return JSONResponse(
            {
                "items": page,
                "returned": len(page),
                "mayHaveMore": more,
                "nextCursor": str(page[-1]["timestamp"]) if more else None,
            }
        )

    def export(values, request):
        window = emulator.checked_pair(values)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ITEM_FIELDS)
        count = 0
        with store.lock:
            for message in emulator.matching(values, window):
                item = item_of(message)
                item["labels"] = ";".join(item["labels"] or ())
                item["customLabelIds"] = ";".join(item["customLabelIds"] or ())
                writer.writerow([item[name] for name in ITEM_FIELDS])
                count += 1
        token = secrets.token_hex(12)
        emulator.exports[token] = out.getvalue().encode()
        url = str(request.base_url).rstrip("/") + f"/_storage/{token}.csv"
        return JSONResponse({"totalCount": count, "csvUrl": url})

    def label_overview(values, request):
        window = emulator.checked_pair(values)
        workspace_id = values["workspaceId"]
        with store.lock:
            messages = list(
                emulator.matching({**values, "label": None, "contentType": None}, window)
            )
        document = compute_label_overview(
            messages,
            workspace_id=workspace_id,
            medium_id=values["mediumId"],
            window=window,
            group_by=values.get("groupBy", "day"),
            custom_labels=store.dataset.custom_labels_of(workspace_id),
        )
        return Response(render_label_overview(document), media_type="application/json")

    async def storage(request: Request):
        body = emulator.exports.get(request.path_params["token"])
        if body is None:
            return JSONResponse({"message": "Not found"}, status_code=404)
        return Response(body, media_type="text/csv")

    from label_overview.emulator.control import control_routes

    vendor = [
        ("/v1/organizations", "organizations", organizations),
        ("/v1/workspaces", "workspaces", workspaces),
        ("/v1/channels", "channels", channels),
        ("/v1/vip-messages", "vip-messages", vip_messages),
        ("/v1/vip-messages/export", "vip-messages/export", export),
        ("/v1/label-overview", "label-overview", label_overview),
    ]
    routes = [Route(path, emulator.vendor(name, handler)) for path, name, handler in vendor]
    routes.append(Route("/_storage/{token}.csv", storage))
    routes.extend(control_routes(emulator))
    return Starlette(routes=routes)
