"""Alerts through a real SMTP server on loopback (aiosmtpd): a failed daily run sends exactly one
email naming the DAG, the day, the failed task and its error, and no byte of the secret."""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import DATA_START, pipeline_env

from .conftest import point_airflow_at
from .test_dags import _daily_logical_date, _run


def _lateness_check_for(day: dt.date) -> dt.datetime:
    """The lateness check's run at 06:00 the day after ``day`` (its data interval starts on it)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch):
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks its own with a connection
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW_VAR_LABEL_OVERVIEW_ALERT_EMAILS", "oncall@example.com")
    yield inbox
    controller.stop()


def test_a_failed_daily_run_sends_one_email(
    dagbag, emulator, dataset, tmp_path, monkeypatch, inbox
):
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    monkeypatch.setenv(
        "AIRFLOW_CONN_DYNAMO_DEFAULT",
        json.dumps(
            {
                "conn_type": "http",
                "host": emulator.base_url,
                "login": dataset.api_keys[0]["key"],
                "password": "not-the-secret-of-this-key",
            }
        ),
    )
    day = DATA_START + dt.timedelta(days=5)
    run, states = _run(dagbag, "label_overview_daily", _daily_logical_date(day))
    assert run.state == "failed", states
    assert states["plan", -1] == "failed"

    [raw] = inbox.messages
    email = BytesParser(policy=policy.default).parsebytes(raw)
    assert email["Subject"] == f"[label-overview] label_overview_daily failed for {day}"
    text = "".join(
        part.get_content() for part in email.walk() if part.get_content_maintype() == "text"
    )
    assert f"DAG label_overview_daily, run {run.run_id}, day {day}: failed." in text
    # Every pull fails, so the freshness check, the last task to fail, fails too.
    assert "\nFailed task: freshness\n" in text
    assert [line for line in text.splitlines() if line.startswith("- ")] == [
        "- build: did not finish",
        "- plan: /workspaces answered 403: Invalid signature",
    ]
    assert "not-the-secret-of-this-key" not in text
    assert dataset.api_keys[0]["secret"] not in text


def test_a_run_past_its_deadline_sends_one_lateness_email_and_an_on_time_one_none(
    dagbag, emulator, dataset, tmp_path, monkeypatch, inbox
):
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    on_time = DATA_START + dt.timedelta(days=5)
    run, states = _run(dagbag, "label_overview_daily", _daily_logical_date(on_time))
    assert run.state == "success", states
    check, _ = _run(dagbag, "label_overview_lateness", _lateness_check_for(on_time))
    assert check.state == "success"
    assert inbox.messages == []

    # The next day's run is still pulling (the API answers slowly) when its deadline comes.
    late = on_time + dt.timedelta(days=1)
    emulator.control.set_faults(latency_ms=3000)
    slow = subprocess.Popen(
        [sys.executable, "-m", "label_overview.cli", "run", "--from", str(late), "--to", str(late)],
        env=pipeline_env(emulator, dataset, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        plans = tmp_path / "landing" / "pipeline_runs"
        deadline = time.monotonic() + 120
        while len(list(plans.glob("run=cli__*/plan.json"))) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        check, _ = _run(dagbag, "label_overview_lateness", _lateness_check_for(late))
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait()
    assert check.state == "success"
    [raw] = inbox.messages
    email = BytesParser(policy=policy.default).parsebytes(raw)
    assert email["Subject"] == f"[label-overview] label_overview_daily has not finished for {late}"
