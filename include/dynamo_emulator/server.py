"""Running the emulator: in the foreground (the CLI), in a background thread (tests, demo), or
as a child process (tests that need the emulator in a process of its own)."""

from __future__ import annotations

import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from dynamo_emulator.app import Emulator, build_app
from dynamo_emulator.control import EmulatorControl
from dynamo_emulator.dataset import Dataset
from dynamo_emulator.faults import Faults, quiet_deliberate_drops
from dynamo_emulator.store import MessageStore

_LISTENING = re.compile(r"listening on (http://\S+)")


def _server(dataset: Dataset, faults: Faults) -> tuple[uvicorn.Server, Emulator]:
    emulator = Emulator(MessageStore(dataset), faults)
    config = uvicorn.Config(
        build_app(emulator), log_level="warning", access_log=False, lifespan="off"
    )
    quiet_deliberate_drops()  # after Config: it (re)configures uvicorn's loggers
    return uvicorn.Server(config), emulator


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; binding it here (not in uvicorn) makes port 0 knowable."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    """Serve a dataset directory in the foreground until SIGINT or SIGTERM.

    Prints exactly one line, ``listening on http://HOST:PORT``, once the socket listens
    (with ``port=0`` the port is the one the system chose), then returns normally on either
    signal, so the CLI exits 0.

    Args:
        data_dir: a dataset directory (see ``dynamo_emulator.dataset``).
        host: the address to listen on.
        port: the port, 0 for a free one.
        fail_rate: share of vendor requests failed on purpose, in [0, 1].
        latency_ms: delay added to every vendor request.
        retry_after_s: the Retry-After of injected 429s.
        seed: seed of the fault draws, so a run repeats.
    """
    faults = Faults(
        fail_rate=fail_rate, latency_ms=latency_ms, retry_after_s=retry_after_s, seed=seed
    )
    server, _ = _server(Dataset.load(data_dir), faults)
    sock = _bind(host, port)
    # uvicorn re-raises the signal that stopped it once it has shut down; as KeyboardInterrupt
    # (SIGINT's default, and SIGTERM's here) that is caught below: stopping is the normal end.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(f"listening on {_url(sock)}", flush=True)
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        sock.close()


@dataclass
class RunningEmulator:
    """A running emulator: ``base_url`` for clients, ``control`` for tests."""

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
    """The emulator on a free 127.0.0.1 port in a background thread, stopped on exit.

    Args:
        data: a dataset directory or a ``Dataset`` (never changed: the emulator copies it).
        fail_rate: share of vendor requests failed on purpose, in [0, 1].
        latency_ms: delay added to every vendor request.
        retry_after_s: the Retry-After of injected 429s.
        seed: seed of the fault draws.

    Yields:
        The running emulator.
    """
    dataset = data if isinstance(data, Dataset) else Dataset.load(data)
    faults = Faults(
        fail_rate=fail_rate, latency_ms=latency_ms, retry_after_s=retry_after_s, seed=seed
    )
    server, emulator = _server(dataset, faults)
    sock = _bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    root_url = _url(sock)
    control = EmulatorControl(root_url)
    try:
        yield RunningEmulator(root_url, control, emulator)
    finally:
        control.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class EmulatorProcess:
    """``dynamo-emulator serve`` as a child process, for tests that need its own process.

    A context manager: entering starts it and waits for its ``listening on`` line; leaving
    (or ``stop()``) sends SIGINT and waits, killing it only if it does not stop in time.

    Args:
        data_dir: the dataset directory to serve.
        fail_rate, latency_ms, retry_after_s, seed: as for ``serve``.
        startup_timeout_s: how long to wait for the ``listening on`` line.
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        fail_rate: float = 0.0,
        latency_ms: int = 0,
        retry_after_s: int = 1,
        seed: int = 0,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.command = [
            sys.executable, "-m", "dynamo_emulator.cli", "serve", "--data", str(data_dir),
            "--fail-rate", str(fail_rate), "--latency-ms", str(latency_ms),
            "--retry-after", str(retry_after_s), "--seed", str(seed),
        ]  # fmt: skip
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[str] | None = None
        self.root_url = ""
        self.control: EmulatorControl | None = None

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def __enter__(self) -> EmulatorProcess:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        line = self._first_line()
        match = _LISTENING.fullmatch(line.strip())
        if match is None:
            self.stop()
            raise RuntimeError(f"the emulator process did not start: {line!r}")
        self.root_url = match[1]
        self.control = EmulatorControl(self.root_url)
        return self

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=self.startup_timeout_s):
                return ""
        return self.process.stdout.readline()

    def stop(self, timeout_s: float = 10.0) -> int:
        """Send SIGINT and wait; returns the exit code (0 for a clean stop)."""
        if self.control is not None:
            self.control.close()
            self.control = None
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
