"""Alerts through a real SMTP server on loopback (aiosmtpd): a failed daily run sends exactly one
email naming the DAG, the day, the failed task and its error, and no byte of the secret."""

from __future__ import annotations

import datetime as dt
import json
import socket
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import DATA_START

from .conftest import point_airflow_at
from .test_dags import _daily_logical_date, _run


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
