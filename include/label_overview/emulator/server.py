"""Running the emulator: in the foreground (the CLI) or in a background thread (tests, demo)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from label_overview.dataset import Dataset
from label_overview.emulator.app import Emulator, build_app
from label_overview.emulator.control import EmulatorControl
from label_overview.emulator.faults import Faults
from label_overview.emulator.store import MessageStore


def _server(dataset: Dataset, faults: Faults) -> tuple[uvicorn.Server, Emulator]:
    emulator = Emulator(MessageStore(dataset), faults)
    config = uvicorn.Config(
        build_app(emulator), log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(config), emulator


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    return sock


def serve(
    data_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    fail_rate: float = 0.0,
    latency_ms: int = 0,
    retry_after_s: int = 1,
    seed: int = 0,
) -> None:
    """Serve a dataset directory until SIGINT/SIGTERM; prints ``listening on http://HOST:PORT``."""
    faults = Faults(
        fail_rate=fail_rate, latency_ms=latency_ms, retry_after_s=retry_after_s, seed=seed
    )
    server, _ = _server(Dataset.load(data_dir), faults)
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"listening on http://{bound_host}:{bound_port}", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it already handled: stopping is the normal end


@dataclass
class RunningEmulator:
    root_url: str
    control: EmulatorControl
    emulator: Emulator

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"


@contextmanager
def running_emulator(
    data: str | Path | Dataset,
    *,
    fail_rate: float = 0.0,
    latency_ms: int = 0,
    retry_after_s: int = 1,
    seed: int = 0,
) -> Iterator[RunningEmulator]:
    """The emulator on a free loopback port in a background thread, stopped on exit."""
    dataset = data if isinstance(data, Dataset) else Dataset.load(data)
    faults = Faults(
        fail_rate=fail_rate, latency_ms=latency_ms, retry_after_s=retry_after_s, seed=seed
    )
    server, emulator = _server(dataset, faults)
    sock = _bind("127.0.0.1", 0)
    root_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    control = EmulatorControl(root_url)
    try:
        yield RunningEmulator(root_url, control, emulator)
    finally:
        control.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
