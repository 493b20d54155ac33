"""The control surface tests use to change the emulator at run time, and a client for it.

Routes live under ``/_control`` (JSON in and out, no auth): they stand for the world changing
under the pipeline (new messages, late labels, labels that have not arrived yet, a
disconnected channel, a skewed clock, an unreliable network) and let a test see the requests
the vendor API received.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Handler = Callable[[Any], Any]


def _json_route(handle: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A POST route: the JSON body in, ``handle(body)`` out; bad input is a 400."""

    async def route(request: Request) -> Response:
        try:
            return JSONResponse(handle(await request.json()))
        except (KeyError, TypeError, ValueError) as error:
            return JSONResponse({"message": f"bad control request: {error!r}"}, status_code=400)

    return route


def control_routes(emulator) -> list[Route]:
    """The ``/_control`` routes acting on an ``Emulator``."""
    store, faults = emulator.store, emulator.faults

    def relabel(body: dict[str, Any]) -> dict[str, int]:
        updated = store.relabel(
            body["workspaceId"],
            body["mediumId"],
            body["conversationId"],
            int(body["timestamp"]),
            list(body.get("labels", [])),
            list(body.get("customLabelIds", [])),
        )
        return {"updated": updated}

    def set_faults(body: dict[str, Any]) -> dict[str, bool]:
        faults.update(body)
        return {"ok": True}

    def set_clock(body: dict[str, Any]) -> dict[str, bool]:
        faults.clock_offset_s = float(body["offsetSeconds"])
        return {"ok": True}

    def set_labels_as_of(body: dict[str, Any]) -> dict[str, bool]:
        as_of = body["asOf"]
        store.set_labels_as_of(None if as_of is None else int(as_of))
        return {"ok": True}

    def disconnect(body: dict[str, Any]) -> dict[str, bool]:
        return {"disconnected": store.disconnect(body["workspaceId"], body["mediumId"])}

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            emulator.clear_requests()
            return JSONResponse({"ok": True})
        return JSONResponse(emulator.requests())

    return [
        Route(
            "/_control/messages",
            _json_route(lambda body: {"appended": store.append(body["messages"])}),
            methods=["POST"],
        ),
        Route("/_control/relabel", _json_route(relabel), methods=["POST"]),
        Route("/_control/faults", _json_route(set_faults), methods=["POST"]),
        Route("/_control/clock", _json_route(set_clock), methods=["POST"]),
        Route("/_control/labels-as-of", _json_route(set_labels_as_of), methods=["POST"]),
        Route("/_control/channels/disconnect", _json_route(disconnect), methods=["POST"]),
        Route("/_control/requests", requests, methods=["GET", "DELETE"]),
    ]


class EmulatorControl:
    """Drives a running emulator's control surface over HTTP.

    Args:
        root_url: the emulator's root, e.g. ``http://127.0.0.1:8123`` (no ``/v1``).
    """

    def __init__(self, root_url: str) -> None:
        self._http = httpx.Client(base_url=root_url, timeout=10.0)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def append_messages(self, messages: list[dict[str, Any]]) -> int:
        """Add dataset messages (dicts as in messages.jsonl); returns how many."""
        return self._post("/_control/messages", {"messages": messages})["appended"]

    def relabel(
        self,
        *,
        workspace_id: str,
        medium_id: str,
        conversation_id: str,
        timestamp: int,
        labels: list[str],
        custom_label_ids: list[str],
    ) -> int:
        """Set the labels of a conversation's messages at one millisecond; how many changed."""
        return self._post(
            "/_control/relabel",
            {
                "workspaceId": workspace_id,
                "mediumId": medium_id,
                "conversationId": conversation_id,
                "timestamp": timestamp,
                "labels": labels,
                "customLabelIds": custom_label_ids,
            },
        )["updated"]

    def set_faults(
        self,
        *,
        fail_rate: float | None = None,
        latency_ms: int | None = None,
        retry_after_s: int | None = None,
        failing_workspaces: list[str] | None = None,
        failing_channels: list[str] | None = None,
        unavailable_workspaces: list[str] | None = None,
        seed: int | None = None,
        corruptions: dict[str, list[str]] | None = None,
    ) -> None:
        """Change the fault settings given; the others keep their values."""
        changes = {
            "failRate": fail_rate,
            "latencyMs": latency_ms,
            "retryAfterS": retry_after_s,
            "failingWorkspaces": failing_workspaces,
            "failingChannels": failing_channels,
            "unavailableWorkspaces": unavailable_workspaces,
            "seed": seed,
            "corruptions": corruptions,
        }
        self._post("/_control/faults", {k: v for k, v in changes.items() if v is not None})

    def set_clock_offset(self, seconds: float) -> None:
        """Move the server's clock ``seconds`` ahead of real UTC (negative: behind)."""
        self._post("/_control/clock", {"offsetSeconds": seconds})

    def set_labels_as_of(self, epoch_ms: int | None) -> None:
        """Serve only the labels that had arrived by ``epoch_ms`` (None: every label)."""
        self._post("/_control/labels-as-of", {"asOf": epoch_ms})

    def disconnect_channel(self, workspace_id: str, medium_id: str) -> bool:
        """Remove a channel's connection to a workspace; False when it had none."""
        body = {"workspaceId": workspace_id, "mediumId": medium_id}
        return self._post("/_control/channels/disconnect", body)["disconnected"]

    def requests(self) -> list[dict[str, Any]]:
        """Vendor requests since the last clear: {"method","path","query","xDate","status"}."""
        response = self._http.get("/_control/requests")
        response.raise_for_status()
        return response.json()

    def clear_requests(self) -> None:
        self._http.delete("/_control/requests").raise_for_status()

    def close(self) -> None:
        self._http.close()
