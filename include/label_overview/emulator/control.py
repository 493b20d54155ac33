"""The control surface tests use to change the emulator at run time, and a client for it."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def control_routes(emulator) -> list[Route]:
    async def messages(request: Request):
        body = await request.json()
        return JSONResponse({"appended": emulator.store.append(body["messages"])})

    async def relabel(request: Request):
        body = await request.json()
        updated = emulator.store.relabel(
            body["workspaceId"],
            body["mediumId"],
            body["conversationId"],
            int(body["timestamp"]),
            body.get("labels", []),
            body.get("customLabelIds", []),
        )
        return JSONResponse({"updated": updated})

    async def faults(request: Request):
        try:
            emulator.faults.update(await request.json())
        except (ValueError, TypeError) as error:
            return JSONResponse({"message": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    async def clock(request: Request):
        emulator.faults.clock_offset_s = float((await request.json())["offsetSeconds"])
        return JSONResponse({"ok": True})

    async def disconnect(request: Request):
        body = await request.json()
        return JSONResponse(
            {"disconnected": emulator.store.disconnect(body["workspaceId"], body["mediumId"])}
        )

    async def requests(request: Request):
        if request.method == "DELETE":
            emulator.request_log.clear()
            return JSONResponse({"ok": True})
        return JSONResponse(list(emulator.request_log))

    return [
        Route("/_control/messages", messages, methods=["POST"]),
        Route("/_control/relabel", relabel, methods=["POST"]),
        Route("/_control/faults", faults, methods=["POST"]),
        Route("/_control/clock", clock, methods=["POST"]),
        Route("/_control/channels/disconnect", disconnect, methods=["POST"]),
        Route("/_control/requests", requests, methods=["GET", "DELETE"]),
    ]


class EmulatorControl:
    """Drives a running emulator's control surface over HTTP."""

    def __init__(self, root_url: str) -> None:
        self._http = httpx.Client(base_url=root_url, timeout=10.0)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def append_messages(self, messages: list[dict[str, Any]]) -> int:
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
        unavailable_workspaces: list[str] | None = None,
        seed: int | None = None,
        corruptions: dict[str, list[str]] | None = None,
    ) -> None:
        changes = {
            "failRate": fail_rate,
            "latencyMs": latency_ms,
            "retryAfterS": retry_after_s,
            "failingWorkspaces": failing_workspaces,
            "unavailableWorkspaces": unavailable_workspaces,
            "seed": seed,
            "corruptions": corruptions,
        }
        self._post("/_control/faults", {k: v for k, v in changes.items() if v is not None})

    def set_clock_offset(self, seconds: float) -> None:
        self._post("/_control/clock", {"offsetSeconds": seconds})

    def disconnect_channel(self, workspace_id: str, medium_id: str) -> bool:
        body = {"workspaceId": workspace_id, "mediumId": medium_id}
        return self._post("/_control/channels/disconnect", body)["disconnected"]

    def requests(self) -> list[dict[str, Any]]:
        response = self._http.get("/_control/requests")
        response.raise_for_status()
        return response.json()

    def clear_requests(self) -> None:
        self._http.delete("/_control/requests").raise_for_status()

    def close(self) -> None:
        self._http.close()
