"""Alerts through a real SMTP server on loopback (aiosmtpd): a failed daily run sends exactly one
email naming the DAG, the day, the failed task and its error, and no byte of the secret."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dynamo_emulator.dataset import Dataset
from tests.conftest import BUSY_DAYS, DATA_START, QUIET_DAY, pipeline_env, with_quiet_day

from .conftest import (
    CLEAN_DAY,
    copy_home,
    daily_logical_date,
    point_airflow_at,
    run_dag,
    running_inbox,
)


def _lateness_check_for(day: dt.date) -> dt.datetime:
    """The lateness check's run at 06:00 the day after ``day`` (its data interval starts on it)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), tzinfo=dt.UTC)


@pytest.fixture
def inbox(monkeypatch):
    with running_inbox(monkeypatch) as inbox:
        yield inbox


@pytest.fixture
def slack(monkeypatch):
    """A stand-in for Slack's webhook endpoint on loopback; the posts it received."""
    posts: list[dict] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = {
        "conn_type": "slackwebhook",
        "host": f"http://127.0.0.1:{server.server_address[1]}/services",
        "password": "T000/B000/XXXX",
    }
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_DEFAULT", json.dumps(connection))
    yield posts
    server.shutdown()


def test_a_failed_daily_run_sends_one_email(
    dagbag, emulator, dataset, tmp_path, monkeypatch, inbox, slack
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
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(day))
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
    # The same alert on Slack, since its connection exists.
    [post] = slack
    assert post["text"].startswith(f"*{email['Subject']}*\nDAG label_overview_daily, run ")
    assert "- plan: /workspaces answered 403: Invalid signature" in post["text"]
    assert "not-the-secret-of-this-key" not in post["text"]


def test_a_run_past_its_deadline_sends_one_lateness_email_and_an_on_time_one_none(
    dagbag, emulator, dataset, tmp_path, monkeypatch, inbox, clean_daily_run
):
    # The on-time run is the shared clean daily run (its own inbox got nothing); a copy of its
    # data root, since a run of the next day writes to it.
    on_time = CLEAN_DAY
    assert clean_daily_run.state == "success", clean_daily_run.states
    assert clean_daily_run.emails == []
    home = copy_home(clean_daily_run.home, tmp_path / "home")
    point_airflow_at(monkeypatch, emulator, dataset, home)
    check, _ = run_dag(dagbag, "label_overview_lateness", _lateness_check_for(on_time))
    assert check.state == "success"
    assert inbox.messages == []

    # The next day's run is still pulling (the API answers slowly) when its deadline comes.
    late = on_time + dt.timedelta(days=1)
    emulator.control.set_faults(latency_ms=3000)
    slow = subprocess.Popen(
        [sys.executable, "-m", "label_overview.cli", "run", "--from", str(late), "--to", str(late)],
        env=pipeline_env(emulator, dataset, home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        plans = home / "landing" / "pipeline_runs"
        deadline = time.monotonic() + 120
        while len(list(plans.glob("run=cli__*/plan.json"))) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        check, _ = run_dag(dagbag, "label_overview_lateness", _lateness_check_for(late))
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait()
    assert check.state == "success"
    [raw] = inbox.messages
    email = BytesParser(policy=policy.default).parsebytes(raw)
    assert email["Subject"] == f"[label-overview] label_overview_daily has not finished for {late}"


def test_a_failed_backfill_sends_one_email_naming_its_window(
    dagbag, emulator, dataset, tmp_path, monkeypatch, inbox
):
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path)
    emulator.control.set_faults(failing_workspaces=dataset.vip_workspace_ids())
    conf = {"from": str(DATA_START), "to": str(DATA_START + dt.timedelta(days=1))}
    run, states = run_dag(dagbag, "label_overview_backfill", conf=conf)
    assert run.state == "failed", states

    [raw] = inbox.messages
    email = BytesParser(policy=policy.default).parsebytes(raw)
    window = f"{conf['from']}..{conf['to']}"
    assert email["Subject"] == f"[label-overview] label_overview_backfill failed for {window}"
    text = "".join(
        part.get_content() for part in email.walk() if part.get_content_maintype() == "text"
    )
    assert f"DAG label_overview_backfill, run {run.run_id}, day {window}: failed." in text
    failed_pairs = sum(len(dataset.channels_of(w)) for w in dataset.vip_workspace_ids())
    assert sum(line.startswith("- extract ") for line in text.splitlines()) == failed_pairs


def test_a_run_with_a_quiet_channel_sends_one_warning(
    dagbag, busy_dataset, emulator_for, tmp_path, monkeypatch, inbox
):
    dataset = Dataset.load(busy_dataset)
    workspace_id = dataset.vip_workspace_ids()[0]
    pair = (workspace_id, dataset.channels_of(workspace_id)[0]["id"])
    quiet = tmp_path / "quiet"
    with_quiet_day(busy_dataset, quiet, pair)
    emulator = emulator_for(quiet, retry_after_s=0)
    point_airflow_at(monkeypatch, emulator, dataset, tmp_path / "home")
    last = DATA_START + dt.timedelta(days=BUSY_DAYS - 1)
    run, states = run_dag(dagbag, "label_overview_daily", daily_logical_date(last))
    assert run.state == "success", states

    [raw] = inbox.messages
    email = BytesParser(policy=policy.default).parsebytes(raw)
    assert email["Subject"] == (
        f"[label-overview] label_overview_daily warns for {last}: 1 quiet channel day(s)"
    )
    text = "".join(
        part.get_content() for part in email.walk() if part.get_content_maintype() == "text"
    )
    [line] = [line for line in text.splitlines() if line.startswith("- ")]
    assert line.startswith(f"- {pair[0]}/{pair[1]} {QUIET_DAY}: ")
