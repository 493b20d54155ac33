"""Headless Chromium (Debian's package) driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` takes commands on the browser's fd 3 and answers on fd 4, one JSON
message per NUL-terminated chunk: no port, no WebSocket client. Over it a test sees every
console message, uncaught exception and request a page makes, instead of scraping a log, and
can hover the page and take a screenshot. The network is cut three ways: every host resolves
to nothing, http(s) and ws(s) URLs are blocked, and each attempt is still recorded.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
BLOCKED_URLS = ["http://*", "https://*", "ws://*", "wss://*"]
VIEWPORT = {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}


class Chromium:
    """One headless browser with one page; ``console`` and ``requests`` fill as it runs."""

    def __init__(self, profile: Path, timeout_s: float = 60) -> None:
        chromium = shutil.which("chromium")
        assert chromium, "chromium is missing: `make browser` installs Debian's package"
        self.timeout_s = timeout_s
        self._console: list[str] = []
        self._requests: list[str] = []
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile / "chromium.log"
        # bash puts the two pipe ends on the fds the browser expects, then becomes it.
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                ["bash", "-c", f'exec "$@" 3<&{commands_read} 4>&{answers_write}', "bash"]
                + [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                pass_fds=(commands_read, answers_write),
                stdout=log,
                stderr=log,
            )
        os.close(commands_read)
        os.close(answers_write)
        threading.Thread(target=self._read_answers, daemon=True).start()
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
            self._session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable", session=True)
            self.call("Network.setBlockedURLs", {"urls": BLOCKED_URLS}, session=True)
            self.call("Emulation.setDeviceMetricsOverride", VIEWPORT, session=True)
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        # No waiting for an answer: the browser may close the pipe before it sends one.
        with contextlib.suppress(BrokenPipeError):
            self._send({"id": 0, "method": "Browser.close"})
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._commands)

    @property
    def console(self) -> list[str]:
        """Console messages, uncaught exceptions, and the browser's warnings and errors."""
        self._drain()
        return list(self._console)

    @property
    def requests(self) -> list[str]:
        """Every URL the page asked for, blocked or not, in order."""
        self._drain()
        return list(self._requests)

    def open(self, url: str, ready: str = "true") -> None:
        """Load ``url`` and wait until it has loaded and ``ready`` (JavaScript) is true."""
        self.call("Page.navigate", {"url": url}, session=True)
        loaded = f"document.readyState === 'complete' && Boolean({ready})"
        deadline = time.monotonic() + self.timeout_s
        while not self.evaluate(loaded):
            assert time.monotonic() < deadline, f"{url}: {ready} never held; {self.console}"
            time.sleep(0.1)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    def hover(self, x: float, y: float) -> None:
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, True)

    def screenshot(self) -> bytes:
        """The whole page as a PNG, beyond the viewport."""
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=True,
        )
        return base64.b64decode(shot["data"])

    def call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._send(message)
        answer = self._wait_for(lambda event: event.get("id") == message["id"])
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    def _send(self, message: dict[str, Any]) -> None:
        os.write(self._commands, json.dumps(message).encode() + b"\0")

    def _wait_for(self, matches) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"chromium did not answer in time; see {self.log}"
            try:
                event = self._events.get(timeout=remaining)
            except queue.Empty:
                continue
            self._record(event)
            if matches(event):
                return event

    def _drain(self) -> None:
        while not self._events.empty():
            self._record(self._events.get())

    def _record(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            self._console.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self._console.append(f"uncaught: {details.get('exception', details)}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("warning", "error"):
            self._console.append(f"log.{params['entry']['level']}: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            self._requests.append(params["request"]["url"])

    def _read_answers(self) -> None:
        pending = b""
        while chunk := os.read(self._answers, 1 << 20):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for message in messages:
                self._events.put(json.loads(message))
        os.close(self._answers)
