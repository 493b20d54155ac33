"""Alerts: one email when a DAG run fails, and one when the daily run has not finished by its
deadline (connection ``smtp_default``, recipients in the Variable ``label_overview_alert_emails``),
each also posted to a Slack webhook when the connection ``slack_default`` exists.

The DAGs' ``on_failure_callback`` is ``on_run_failure``, a plain function rather than the SMTP
provider's ``SmtpNotifier``: on Airflow 3.3.2 a provider notifier set on a DAG cannot render its
templates under ``dag.test()`` (apache/airflow#64649), and the message here needs no template.
What failed and why comes from the run's own records (``runs``), which every step writes with
its one-line error, so the message holds ids, days and errors: never the API's secret, message
text or user names.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from label_overview import runs, storage
from label_overview.settings import Settings

log = logging.getLogger(__name__)

RECIPIENTS_VARIABLE = "label_overview_alert_emails"
SMTP_CONN_ID = "smtp_default"
SLACK_CONN_ID = "slack_default"


def failure_message(
    dag_id: str,
    run_id: str,
    day: str,
    task: str,
    log_url: str,
    problems: list[str],
    warnings: list[str],
) -> tuple[str, str]:
    """The alert's subject and plain-text body."""
    subject = f"[label-overview] {dag_id} failed for {day}"
    lines = [
        f"DAG {dag_id}, run {run_id}, day {day}: failed.",
        f"Failed task: {task}",
        f"Log: {log_url}",
        "",
        "What went wrong (the run's records):",
        *[f"- {line}" for line in problems or ["(no step recorded an error; see the log)"]],
        *(
            ["", "Quiet channels (warnings):", *[f"- {line}" for line in warnings]]
            if warnings
            else []
        ),
        "",
        "A rerun of the run repairs it once the cause is gone.",
    ]
    return subject, "\n".join(lines)


def on_run_failure(context: Mapping[str, Any]) -> None:
    """The DAGs' failure callback: send one alert for the failed run."""
    from label_overview.orchestration import settings_from_airflow

    dag_run, ti = context["dag_run"], context["ti"]
    settings = settings_from_airflow(api=False)
    # The callback runs where Airflow runs it (the dag-processor): with a storage, the run's
    # records are read from the bucket.
    sync = storage.run_history_sync(settings.root, dag_run.run_id)
    with storage.scratch(settings, sync) as reading:
        records = runs.read_records(reading.root, dag_run.run_id)
    task = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
    subject, body = failure_message(
        dag_run.dag_id,
        dag_run.run_id,
        run_day(context),
        task,
        getattr(ti, "log_url", ""),
        runs.problems(records),
        runs.warnings(records),
    )
    _send(subject, body)


def alert_if_late(settings: Settings, day: dt.date) -> str:
    """The lateness check (the ``label_overview_lateness`` DAG, run at the deadline): email once
    unless a run whose window ends on ``day`` has finished (its ``finish`` record, succeeded or
    failed: a failed run has had its own alert). Returns what it found, for the task's log."""

    if runs.finished_runs(settings.root, day):
        return f"a run for {day} has finished"
    running = runs.started_runs(settings.root, day)
    subject = f"[label-overview] label_overview_daily has not finished for {day}"
    body = "\n".join(
        [
            f"No run for {day} had finished by the deadline.",
            f"Runs started for it and still unfinished: {', '.join(running) or 'none'}.",
            "Look at the daily DAG's run for the day (queued, slow pulls, a stuck task).",
        ]
    )
    _send(subject, body)
    return subject


def alert_warnings(dag_id: str, run_id: str, day: str, warnings: list[str]) -> None:
    """One alert for a run that succeeded with warnings (quiet channels): the data is exact,
    but a channel may have lost its connection upstream."""
    subject = f"[label-overview] {dag_id} warns for {day}: {len(warnings)} quiet channel day(s)"
    body = "\n".join(
        [
            f"DAG {dag_id}, run {run_id}, day {day}: succeeded, with warnings.",
            "",
            "Quiet channels (below 20 % of their trailing 28-day median; a revoked page token",
            "looks like this):",
            *[f"- {line}" for line in warnings],
        ]
    )
    _send(subject, body)


def run_day(context: Mapping[str, Any]) -> str:
    """The run's days: the backfill's window, else the daily run's data interval start."""
    conf = context["dag_run"].conf or {}
    if conf.get("from") or conf.get("to"):
        return f"{conf.get('from')}..{conf.get('to')}"
    interval = context.get("data_interval_start")
    return "?" if interval is None else str(interval.date())


def _send(subject: str, body: str) -> None:
    """Email the recipients the Variable names, and post to Slack when its connection exists."""
    from airflow.sdk import Variable

    recipients = Variable.get(RECIPIENTS_VARIABLE, default="")
    if recipients:
        _email([r.strip() for r in recipients.split(",") if r.strip()], subject, body)
    else:
        log.warning("no alert email sent: the Variable %s is not set", RECIPIENTS_VARIABLE)
    _slack(f"*{subject}*\n{body}")


def _slack(text: str) -> None:
    """Post to the Slack webhook of ``slack_default``; without that connection, nothing (most
    deployments have none)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(SLACK_CONN_ID)
    except AirflowNotFoundException:
        return
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    SlackWebhookHook(slack_webhook_conn_id=SLACK_CONN_ID).send(text=text)


def _email(recipients: list[str], subject: str, body: str) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
        hook.send_email_smtp(
            to=recipients, subject=subject, html_content=f"<pre>{_escape(body)}</pre>"
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
