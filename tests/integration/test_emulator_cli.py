"""``dynamo-emulator serve`` as its own process: announces itself, serves, stops on SIGINT."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys

from dynamo_emulator.dataset import Dataset
from dynamo_emulator.generate import generate_dataset
from label_overview.dynamo.client import DynamoClient
from label_overview.dynamo.retry import RetryPolicy


def test_emulator_process_serves_the_dataset_until_sigint(tmp_path):
    generate_dataset(tmp_path, seed=3, start=dt.date(2026, 6, 1), days=2, workspaces=1)
    key = Dataset.load(tmp_path).api_keys[0]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dynamo_emulator.cli",
            "serve",
            "--data",
            str(tmp_path),
            "--fail-rate",
            "0.2",
            "--latency-ms",
            "5",
            "--retry-after",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        policy = RetryPolicy(base_delay_s=0.001, max_delay_s=0.01, max_attempts=20)
        with DynamoClient(f"{match[1]}/v1", key["key"], key["secret"], retry=policy) as client:
            assert len(client.workspaces()) == 2
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
