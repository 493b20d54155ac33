"""The metrics layer (dbt_project/models/semantic/, MetricFlow) against what it summarizes: for
random windows, MetricFlow's numbers from the metric definitions equal the API's label-overview
totals per workspace, channel and label; and ``label-overview mf query`` answers the README's
question (the label rate of churn_risk per week) with the marts' numbers, from the read copy
alone."""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import time

import pytest

from dynamo_emulator.dataset import Dataset
from label_overview import steps
from label_overview.dynamo.client import DynamoClient
from label_overview.metrics import semantic_manifest_path
from label_overview.pipeline import new_run_id
from label_overview.settings import Settings
from label_overview.warehouse import OFFLINE, read_only
from label_overview.windows import GROUP_BYS, Window
from tests.conftest import DATA_DAYS, DATA_START, cli, pipeline_env

LAST_DAY = DATA_START + dt.timedelta(days=DATA_DAYS - 1)
WINDOWS = 20
PAIR_KEY = ["workspace", "channel"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The demo's kind of data (its generator's story, its seed), three weeks of it: label
    mix, weekends, growth, the incident, the quiet day and late labels (all arrived here)."""
    from dynamo_emulator.generate import generate_dataset

    directory = tmp_path_factory.mktemp("story")
    generate_dataset(
        directory,
        seed=7,
        start=DATA_START,
        days=DATA_DAYS,
        workspaces=2,
        messages_per_day=40,
        story=True,
    )
    return Dataset.load(directory)


@pytest.fixture(scope="module")
def built(tmp_path_factory, dataset):
    """Every generated day pulled from the emulator and built by the run's steps (plan,
    extract, build); the emulator keeps running for its answers. Nothing is published: the
    metrics read the warehouse, and the API's answers, which the snapshots equal byte for byte
    (test_pipeline), are the reference."""
    from dynamo_emulator.server import running_emulator

    home = tmp_path_factory.mktemp("home")
    with running_emulator(dataset) as emulator:
        settings = Settings.from_env(pipeline_env(emulator, dataset, home))
        run_id = new_run_id()
        plan = steps.plan(settings, Window(DATA_START, LAST_DAY), run_id=run_id)
        for pair_plan in plan.pairs:
            steps.extract(settings, pair_plan, run_id, stop_at=time.monotonic() + 300)
        steps.build(settings, plan.build_window, run_id)
        yield {"settings": settings, "home": home, "emulator": emulator}


@pytest.fixture(scope="module")
def metricflow(built):
    """``query(metrics, group_by, window)``: MetricFlow's engine, in this process, compiles the
    request from the build's semantic manifest into SQL, which runs on the read copy (``mf
    query`` does the same through dbt's adapter, at ~5 s of start-up a call). Rows as dicts."""
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow.protocols.sql_client import SqlEngine
    from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    class DuckDbCompiler:
        """What MetricFlow's explain asks of a SQL client: the dialect."""

        sql_engine_type = SqlEngine.DUCKDB
        sql_plan_renderer = DuckDbSqlPlanRenderer()

    settings = built["settings"]
    manifest = parse_manifest_from_dbt_generated_manifest(
        semantic_manifest_path(settings).read_text()
    )
    engine = MetricFlowEngine(SemanticManifestLookup(manifest), DuckDbCompiler())

    def query(metrics: list[str], group_by: list[str], window: Window) -> list[dict]:
        day = "{{ TimeDimension('metric_time', 'day') }}"
        request = MetricFlowQueryRequest.create(
            metric_names=metrics,
            group_by_names=group_by,
            where_constraints=[f"{day} between '{window.first_day}' and '{window.last_day}'"],
        )
        cursor = connection.execute(engine.explain(request).sql_statement.sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    with read_only(settings.root.read_copy) as connection:
        yield query


def random_window(rng: random.Random) -> Window:
    """A window of 1 to 31 days inside the data's days."""
    first = rng.randrange(DATA_DAYS)
    length = rng.randint(1, min(31, DATA_DAYS - first))
    return Window(
        DATA_START + dt.timedelta(days=first), DATA_START + dt.timedelta(days=first + length - 1)
    )


def api_totals(client, pairs, window: Window, group_by: str) -> tuple[dict, dict]:
    """The API's totals for ``window``: {(workspace, channel, label): (count,
    uniqueConversations)} and {(workspace, channel): (userMessages, activeConversations)}."""
    labels, activity = {}, {}
    for workspace_id, channel_id in pairs:
        document = client.label_overview(workspace_id, channel_id, window, group_by).document
        for label, total in document["totals"].items():
            labels[workspace_id, channel_id, label] = (total["count"], total["uniqueConversations"])
        totals = document["activityTotals"]
        activity[workspace_id, channel_id] = (
            totals["userMessages"],
            totals["activeConversations"],
        )
    return labels, activity


def rate(api_labels: dict, api_activity: dict, label_key: tuple) -> float:
    """The API's label rate: the label's count / the pair's userMessages (0 without it)."""
    if label_key not in api_labels:
        return 0.0
    return api_labels[label_key][0] / api_activity[label_key[:2]][0]


def test_a_windows_counts_per_label_equal_the_label_overview_totals(built, dataset, metricflow):
    rng = random.Random(20261203)
    pairs = sorted(
        (w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)
    )
    key = dataset.api_keys[0]
    windows_where_summed_days_differ = 0
    with (
        DynamoClient(built["emulator"].base_url, key["key"], key["secret"]) as client,
        read_only(built["settings"].root.read_copy) as connection,
    ):
        for _ in range(WINDOWS):
            window = random_window(rng)
            # The API's totals are the same whichever buckets it is asked for.
            api_labels, api_activity = api_totals(client, pairs, window, rng.choice(GROUP_BYS))
            assert api_labels, window

            rows = metricflow(
                ["labeled_messages", "unique_conversations", "label_rate"],
                [*PAIR_KEY, "label"],
                window,
            )
            # Rows of labels the pair did not carry in the window (it did elsewhere: the rate's
            # baseline has every label) hold zeros, rate 0; the API leaves them out.
            ours = {(r["workspace"], r["channel"], r["label"]): r for r in rows}
            assert set(api_labels) <= set(ours), window
            assert {
                label_key: (r["labeled_messages"], r["unique_conversations"], r["label_rate"])
                for label_key, r in ours.items()
            } == {
                label_key: (
                    *api_labels.get(label_key, (0, 0)),
                    rate(api_labels, api_activity, label_key),
                )
                for label_key in ours
            }, window

            rows = metricflow(["user_messages", "active_conversations"], PAIR_KEY, window)
            activity = {
                (r["workspace"], r["channel"]): (r["user_messages"], r["active_conversations"])
                for r in rows
            }
            assert set(activity) <= set(pairs)
            assert {pair: activity.get(pair, (0, 0)) for pair in pairs} == api_activity, window

            # The windows tell a distinct count from a sum of daily distinct counts.
            summed_days = connection.execute(
                """select workspace_id, channel_id, label, sum(unique_conversations)
                   from marts.fct_label_counts_daily
                   where day between $first and $last
                   group by all""",
                {"first": window.first_day, "last": window.last_day},
            ).fetchall()
            summed = {(w, c, label): n for w, c, label, n in summed_days}
            unique = {label_key: total[1] for label_key, total in api_labels.items()}
            windows_where_summed_days_differ += summed != unique
    assert windows_where_summed_days_differ > 0


def test_mf_query_answers_the_label_rate_of_churn_risk_per_week_from_the_read_copy(built, tmp_path):
    import duckdb

    home = built["home"]
    out = tmp_path / "churn_risk.csv"
    env = {**os.environ, "LABEL_OVERVIEW_HOME": str(home)}
    # A writer holds the warehouse and a reader the read copy: mf opens neither for writing.
    # (With the package's configuration: this process may hold the read copy open already.)
    with (
        duckdb.connect(str(home / "warehouse.duckdb"), config=OFFLINE),
        duckdb.connect(str(home / "warehouse.read.duckdb"), read_only=True, config=OFFLINE),
    ):
        result = cli(
            env,
            *("mf", "query", "--metrics", "label_rate,labeled_messages,label_baseline_messages"),
            *("--group-by", "metric_time__week,label", "--order", "metric_time__week"),
            *("--where", "{{ Entity('label') }} = 'churn_risk'", "--csv", str(out)),
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with out.open(newline="") as file:
        answered = [
            (
                row["metric_time__week"],
                row["label"],
                float(row["label_rate"]),
                int(row["labeled_messages"]),
                int(row["label_baseline_messages"]),
            )
            for row in csv.DictReader(file)
        ]

    with read_only(home / "warehouse.duckdb") as connection:
        weeks = connection.execute(
            """with weekly_users as (
                   select week_start, sum(user_messages) as user_messages
                   from marts.fct_activity_weekly
                   group by all
                   having sum(user_messages) > 0
               ),
               weekly_churn_risk as (
                   select week_start, sum(message_count) as message_count
                   from marts.fct_label_counts_weekly
                   where label = 'churn_risk'
                   group by all
               )
               select week_start, coalesce(message_count, 0), user_messages
               from weekly_users
               left join weekly_churn_risk using (week_start)
               order by week_start"""
        ).fetchall()
    assert len(weeks) == 3
    assert answered == [
        (f"{week} 00:00:00", "churn_risk", count / users, count, users)
        for week, count, users in weeks
    ]


def test_mf_before_any_build_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LABEL_OVERVIEW_HOME": str(tmp_path)}
    result = cli(env, "mf", "query", "--metrics", "user_messages")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"label-overview mf: error: no {tmp_path / 'warehouse.read.duckdb'}:"
        " run `label-overview run` first\n"
    )
