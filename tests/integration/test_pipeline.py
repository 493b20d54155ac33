"""The pipeline end to end against the emulator: extract → dbt build → export, via the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from label_overview import landing, steps
from label_overview.contract import label_overview_schema, label_overview_status_schema
from label_overview.documents import label_overview_document
from label_overview.dynamo.client import DynamoClient
from label_overview.overview import render_label_overview
from label_overview.settings import Settings
from label_overview.transform import TransformError, dbt_build, dbt_test
from label_overview.warehouse import read_only
from label_overview.windows import Window
from tests.conftest import (
    DATA_DAYS,
    DATA_START,
    cli,
    exported_files,
    marts_rows,
    pipeline_env,
    published_snapshots,
)

SCHEMA = label_overview_schema()
LAST_DAY = DATA_START + dt.timedelta(days=DATA_DAYS - 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory, dataset_dir, dataset):
    """One full run over every generated day, with the emulator that served it kept running."""
    from dynamo_emulator.server import running_emulator

    home = tmp_path_factory.mktemp("home")
    with running_emulator(dataset_dir) as emulator:
        env = pipeline_env(emulator, dataset, home)
        result = cli(env, "run", "--from", str(DATA_START), "--to", str(LAST_DAY))
        assert result.returncode == 0, result.stderr
        yield {"home": home, "env": env, "emulator": emulator, "stdout": result.stdout}


def test_dbt_unit_tests_pass_on_the_built_warehouse(built):
    # Nightly builds leave them out; they run here, once per change.
    summary = dbt_test(Settings(home=built["home"]), "test_type:unit")
    assert (summary.unit_tests, summary.tests_passed, summary.models) == (7, 7, 0)


def copy_of_built_home(built, tmp_path):
    """The built run's landing files and warehouse in a home of the test's own, to break."""
    home = tmp_path / "home"
    shutil.copytree(built["home"] / "landing", home / "landing")
    shutil.copyfile(built["home"] / "warehouse.duckdb", home / "warehouse.duckdb")
    return home


def failed_tests(failure) -> list[tuple[str, str]]:
    """(test name, status) of each dbt node a TransformError names, e.g.
    "dbt test failed: test.label_overview.NAME.HASH (fail), ..." → [("NAME", "fail")]."""
    nodes = str(failure.value).split(": ", 1)[1].split(", ")
    return sorted(
        (node.split(".")[2], status.removesuffix(")"))
        for node, status in (n.rsplit(" (", 1) for n in nodes)
    )


def test_key_tests_catch_a_duplicated_message(built, tmp_path):
    import duckdb

    home = copy_of_built_home(built, tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        for mart in ("fct_user_messages", "fct_labeled_messages"):
            connection.execute(f"insert into marts.{mart} from marts.{mart} limit 1")
    with pytest.raises(TransformError) as failure:
        dbt_test(
            Settings(home=home),
            "test_type:data,fct_user_messages test_type:data,fct_labeled_messages",
        )
    assert failed_tests(failure) == [
        (
            "unique_combination_fct_labeled_messages_workspace_id__channel_id__sent_on__landing_line__label",
            "fail",
        ),
        (
            "unique_combination_fct_user_messages_workspace_id__channel_id__sent_on__landing_line",
            "fail",
        ),
    ]


@pytest.mark.parametrize(
    "change",
    [
        "delete from marts.fct_user_messages",
        "update marts.fct_user_messages set is_labeled = false",
    ],
)
def test_a_labeled_row_must_name_a_labeled_message(built, tmp_path, change):
    import duckdb

    home = copy_of_built_home(built, tmp_path)
    key = "workspace_id, channel_id, sent_on, landing_line"
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        connection.execute(
            f"{change} where ({key}) in (select ({key}) from marts.fct_labeled_messages limit 1)"
        )
    with pytest.raises(TransformError) as failure:
        dbt_test(Settings(home=home), "test_type:data,fct_labeled_messages")
    assert failed_tests(failure) == [
        ("relationships_fct_labeled_messages__labeled_fct_user_messages", "fail")
    ]


# The facts' key and relationship tests compare bitmaps of lines per block of 1024
# (macros/line_bitmaps.sql); these are the plain checks whose rows they must return.
MESSAGE_KEY_TEST = (
    "unique_combination_fct_user_messages_workspace_id__channel_id__sent_on__landing_line"
)
LABEL_KEY_TEST = (
    "unique_combination_fct_labeled_messages_workspace_id__channel_id__sent_on__landing_line__label"
)
PLAIN_KEY_CHECKS = {
    MESSAGE_KEY_TEST: """
        select workspace_id, channel_id, sent_on, landing_line, count(*)
        from marts.fct_user_messages group by all having count(*) > 1""",
    LABEL_KEY_TEST: """
        select workspace_id, channel_id, sent_on, landing_line, label, count(*)
        from marts.fct_labeled_messages group by all having count(*) > 1""",
    "relationships_fct_labeled_messages__labeled_fct_user_messages": """
        select workspace_id, channel_id, sent_on, landing_line
        from marts.fct_labeled_messages
        anti join (select * from marts.fct_user_messages where is_labeled)
            using (workspace_id, channel_id, sent_on, landing_line)""",
}

# Rows planted where bitmaps could go wrong: lines in another block at the same bit, lines far
# out or below zero, a labeled row naming an unlabeled message of its own block, and rows that
# look alike without breaking a rule.
PLANTED_ROWS = """
create temp table picked as
select
    workspace_id, channel_id, sent_on,
    min(landing_line) filter (is_labeled) as labeled_line,
    min(landing_line) filter (not is_labeled) as unlabeled_line
from marts.fct_user_messages
group by all
having min(landing_line) filter (is_labeled) < 1024
    and min(landing_line) filter (not is_labeled) < 1024
order by all
limit 1;

create temp macro message_row(line_offset) as table
select * replace (landing_line + line_offset as landing_line)
from marts.fct_user_messages semi join picked using (workspace_id, channel_id, sent_on)
where landing_line = (select labeled_line from picked);

create temp macro labeled_row(new_line) as table
select * replace (new_line as landing_line)
from marts.fct_labeled_messages semi join picked using (workspace_id, channel_id, sent_on)
where landing_line = (select labeled_line from picked)
order by label
limit 1;

insert into marts.fct_user_messages from message_row(1024);
insert into marts.fct_user_messages from message_row(0);
insert into marts.fct_user_messages from message_row(-100000);
insert into marts.fct_user_messages from message_row(-100000);
insert into marts.fct_user_messages from message_row(1099511627776);
insert into marts.fct_user_messages from message_row(1099511627776);

insert into marts.fct_labeled_messages from labeled_row((select labeled_line from picked) + 1024);
insert into marts.fct_labeled_messages from labeled_row((select labeled_line from picked) + 2048);
insert into marts.fct_labeled_messages from labeled_row((select unlabeled_line from picked));
insert into marts.fct_labeled_messages from labeled_row((select labeled_line from picked));
insert into marts.fct_labeled_messages
select * replace ('planted_label' as label) from labeled_row((select labeled_line from picked));
insert into marts.fct_labeled_messages from labeled_row(-7);
insert into marts.fct_labeled_messages from labeled_row(-7);
"""


def test_key_tests_fail_on_exactly_the_rows_of_the_plain_checks(built, tmp_path):
    import duckdb

    home = copy_of_built_home(built, tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        connection.execute(PLANTED_ROWS)
        plain = {
            name: sorted(connection.execute(sql).fetchall())
            for name, sql in PLAIN_KEY_CHECKS.items()
        }
    # The message at line L twice (+0), twice 100000 lines before, twice 2^40 lines after; its
    # labeled row twice, twice at line -7 (also two orphans), and at L + 2048 and at an
    # unlabeled message's line (orphans). A copy of both at L + 1024 (the same bit of the next
    # block) and a new label on L's labeled row break no rule.
    assert [len(rows) for rows in plain.values()] == [3, 2, 4]
    with pytest.raises(TransformError) as failure:
        dbt_test(
            Settings(home=home),
            "test_type:data,fct_user_messages test_type:data,fct_labeled_messages",
        )
    assert failed_tests(failure) == sorted((name, "fail") for name in PLAIN_KEY_CHECKS)
    results = json.loads((Settings(home=home).root.dbt_target / "run_results.json").read_text())
    compiled = {
        result["unique_id"].split(".")[2]: result["compiled_code"] for result in results["results"]
    }
    with read_only(home / "warehouse.duckdb") as connection:
        for name, rows in plain.items():
            assert sorted(connection.execute(compiled[name]).fetchall()) == rows, name


def test_a_null_where_the_contract_forbids_it_fails_the_build(built, tmp_path):
    # not null is a contract constraint, not a dbt test: DuckDB refuses the row, dbt fails.
    import duckdb

    home = tmp_path / "home"
    shutil.copytree(built["home"] / "landing", home / "landing")
    partition = next((home / "landing" / "vip_messages").rglob(landing.MESSAGES_FILE))
    broken = partition.with_name("broken.parquet")
    duckdb.execute(
        """copy (select * replace (if(_line = 1, null, "conversationId") as "conversationId")
                 from read_parquet($partition))
           to $broken (format parquet)""",
        {"partition": str(partition), "broken": str(broken)},
    )
    broken.replace(partition)
    with pytest.raises(TransformError) as failure:
        dbt_build(Settings(home=home), None)
    assert str(failure.value) == (
        "dbt build failed: model.label_overview.fct_user_messages (error: Constraint Error:"
        " NOT NULL constraint failed: fct_user_messages.conversation_id)"
    )


def test_a_mart_whose_columns_changed_stops_the_build_with_its_reason(built, tmp_path):
    # A warehouse from before an upgrade that changed a mart: loud, not a mix of shapes.
    import duckdb

    home = copy_of_built_home(built, tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        connection.execute("alter table marts.fct_user_messages add column message_id varchar")
    with pytest.raises(TransformError) as failure:
        dbt_build(Settings(home=home), None)
    assert str(failure.value) == (
        "dbt build failed: model.label_overview.fct_user_messages (error: The source and target"
        " schemas on this incremental model are out of sync!)"
    )


def test_a_message_is_keyed_by_its_landing_partition_and_line(built):
    import duckdb

    home = built["home"]
    with read_only(home / "warehouse.duckdb") as connection:
        rows = connection.execute(
            """select workspace_id, channel_id, sent_on, landing_line, conversation_id,
                      epoch_ms(sent_at)
               from marts.fct_user_messages using sample 50 rows (reservoir, 7)"""
        ).fetchall()
    assert len(rows) == 50
    for workspace_id, medium_id, day, line, conversation_id, sent_at_ms in rows:
        partition = landing.message_partition_path(home / "landing", workspace_id, medium_id, day)
        landed = duckdb.execute(
            """select "_line", "conversationId", "timestamp" from read_parquet($path)""",
            {"path": str(partition)},
        ).fetchall()
        # The partition's rows are in the API's order, numbered 1.. without a gap.
        assert [row[0] for row in landed] == list(range(1, len(landed) + 1))
        assert landed[line - 1] == (line, conversation_id, sent_at_ms)


def canonical(document: dict) -> str:
    return json.dumps(document, sort_keys=True)


def test_run_prints_a_closing_summary(built, dataset):
    summary = built["stdout"].strip().splitlines()[-1]
    pairs = sum(len(dataset.channels_of(w)) for w in dataset.vip_workspace_ids())
    assert summary.startswith(f"run {DATA_START}..{LAST_DAY}: {pairs} workspace×channel pairs")
    assert "files published" in summary


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.integers(min_value=-3, max_value=DATA_DAYS),
    length=st.integers(min_value=1, max_value=31),
    group_by=st.sampled_from(["day", "week"]),
    pair_index=st.integers(min_value=0, max_value=3),
)
def test_export_equals_the_api(built, dataset, first, length, group_by, pair_index):
    pairs = sorted(
        (w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)
    )
    workspace_id, medium_id = pairs[pair_index]
    window = Window(
        DATA_START + dt.timedelta(days=first),
        DATA_START + dt.timedelta(days=first + length - 1),
    )
    key = dataset.api_keys[0]
    with DynamoClient(built["emulator"].base_url, key["key"], key["secret"]) as client:
        api = client.label_overview(workspace_id, medium_id, window, group_by)
    with read_only(built["home"] / "warehouse.duckdb") as connection:
        ours = label_overview_document(connection, workspace_id, medium_id, window, group_by)
    assert canonical(ours) == canonical(api.document)
    assert render_label_overview(ours) == api.body


def test_cli_export_prints_the_api_document(built, dataset):
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    window = Window(DATA_START + dt.timedelta(days=2), DATA_START + dt.timedelta(days=16))
    result = cli(
        built["env"],
        "export",
        "--workspace",
        workspace_id,
        "--medium",
        medium_id,
        "--from",
        str(window.first_day),
        "--to",
        str(window.last_day),
        "--group-by",
        "week",
    )
    assert result.returncode == 0, result.stderr
    key = dataset.api_keys[0]
    with DynamoClient(built["emulator"].base_url, key["key"], key["secret"]) as client:
        api = client.label_overview(workspace_id, medium_id, window, "week")
    assert result.stdout.encode() == api.body + b"\n"


def test_published_snapshots_are_the_api_documents_and_valid(built, dataset):
    files = exported_files(built["home"])
    window = Window(LAST_DAY - dt.timedelta(days=30), LAST_DAY)
    key = dataset.api_keys[0]
    expected_paths = set()
    with DynamoClient(built["emulator"].base_url, key["key"], key["secret"]) as client:
        for workspace_id in dataset.vip_workspace_ids():
            expected_paths.add(f"{workspace_id}/manifest.json")
            for channel in dataset.channels_of(workspace_id):
                for group_by in ("day", "week"):
                    name = f"{window.first_day}_{LAST_DAY}.json"
                    path = f"{workspace_id}/{channel['id']}/{group_by}/{name}"
                    expected_paths.add(path)
                    api = client.label_overview(workspace_id, channel["id"], window, group_by)
                    assert files[path] == api.body
                    jsonschema.validate(json.loads(files[path]), SCHEMA)
    assert set(files) == expected_paths


def test_manifest_lists_each_file_with_its_sha256(built, dataset):
    import hashlib

    home = built["home"]
    for workspace_id in dataset.vip_workspace_ids():
        manifest = json.loads((home / "exports" / workspace_id / "manifest.json").read_text())
        assert manifest["workspaceId"] == workspace_id
        on_disk = sorted(
            p.relative_to(home / "exports" / workspace_id).as_posix()
            for p in (home / "exports" / workspace_id).glob("*/*/*.json")
        )
        assert [entry["path"] for entry in manifest["files"]] == on_disk
        for entry in manifest["files"]:
            body = (home / "exports" / workspace_id / entry["path"]).read_bytes()
            assert entry["sha256"] == hashlib.sha256(body).hexdigest()
            assert workspace_id in body.decode()
            for other in set(dataset.vip_workspace_ids()) - {workspace_id}:
                assert other not in body.decode()


def test_rerunning_changes_nothing(built):
    home, env = built["home"], built["env"]
    marts, files = marts_rows(home), exported_files(home)
    one_day = cli(env, "run", "--from", str(LAST_DAY), "--to", str(LAST_DAY))
    assert one_day.returncode == 0, one_day.stderr
    assert marts_rows(home) == marts
    assert exported_files(home) == files
    whole = cli(env, "run", "--from", str(DATA_START), "--to", str(LAST_DAY))
    assert whole.returncode == 0, whole.stderr
    assert marts_rows(home) == marts
    assert exported_files(home) == files


def land_jsonl_as_older_releases_did(built, dataset, landing_dir: Path) -> int:
    """Replace every message partition under ``landing_dir`` with the JSONL file releases
    before the columnar landing wrote for it: the API's items less userName and text, each
    with its ``_line``, one a line (an empty file for a day without messages); returns how
    many."""
    key = dataset.api_keys[0]
    partitions = sorted(landing_dir.glob(f"vip_messages/*/*/day=*/{landing.MESSAGES_FILE}"))
    with DynamoClient(built["emulator"].base_url, key["key"], key["secret"]) as client:
        for workspace_id in dataset.vip_workspace_ids():
            for channel in dataset.channels_of(workspace_id):
                lines: dict[str, list[bytes]] = {}
                window = Window(DATA_START, LAST_DAY)
                for item in client.vip_messages(workspace_id, channel["id"], window):
                    del item["userName"], item["text"]
                    day = lines.setdefault(str(dt_day(item["timestamp"])), [])
                    item["_line"] = len(day) + 1
                    day.append(json.dumps(item, separators=(",", ":")).encode() + b"\n")
                folder = landing.message_partitions_dir(landing_dir, workspace_id, channel["id"])
                for partition in folder.glob(f"day=*/{landing.MESSAGES_FILE}"):
                    day = partition.parent.name.removeprefix("day=")
                    jsonl = partition.with_name(landing.JSONL_MESSAGES_FILE)
                    jsonl.write_bytes(b"".join(lines.get(day, [])))
                    partition.unlink()
    (landing_dir / "vip_messages" / landing.COLUMNAR_FILE).unlink()
    return len(partitions)


def dt_day(timestamp_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).date()


def test_a_converted_jsonl_landing_builds_the_same_marts_and_snapshots(built, dataset, tmp_path):
    import duckdb

    home = tmp_path / "home"
    shutil.copytree(built["home"] / "landing", home / "landing")
    partitions = land_jsonl_as_older_releases_did(built, dataset, home / "landing")
    assert not list((home / "landing").rglob(landing.MESSAGES_FILE))

    env = {**built["env"], "LABEL_OVERVIEW_HOME": str(home)}
    converted = cli(env, "convert-landing")
    assert (converted.returncode, converted.stdout, converted.stderr) == (
        0,
        f"{partitions} JSONL message partitions converted to Parquet\n",
        "",
    )
    assert not list((home / "landing").rglob(landing.JSONL_MESSAGES_FILE))
    # Each converted file holds the rows the extract wrote, in the same order.
    originals = built["home"].glob(f"landing/vip_messages/*/*/*/{landing.MESSAGES_FILE}")
    for original in sorted(originals):
        twin = home / original.relative_to(built["home"])
        query = "select * from read_parquet($path)"
        assert (
            duckdb.execute(query, {"path": str(twin)}).fetchall()
            == duckdb.execute(query, {"path": str(original)}).fetchall()
        )
    again = cli(env, "convert-landing")
    assert (again.returncode, again.stdout) == (
        0,
        "0 JSONL message partitions converted to Parquet\n",
    )

    settings = Settings(home=home)
    dbt_build(settings, None)
    steps.publish(settings, dataset.vip_workspace_ids(), LAST_DAY, run_id="test")
    assert marts_rows(home) == marts_rows(built["home"])
    assert published_snapshots(home) == published_snapshots(built["home"])


def publish_records(settings: Settings, run_id: str) -> list[dict]:
    """A run's publish records, by workspace, without their times."""
    from label_overview import runs

    records = [r for r in runs.read_records(settings.root, run_id) if r["step"] == "publish"]
    return sorted(
        (
            {k: v for k, v in r.items() if k not in ("started_at", "finished_at", "seconds")}
            for r in records
        ),
        key=lambda record: record["workspace_id"],
    )


def without_publication_times(files: dict[str, bytes]) -> dict[str, bytes]:
    """Every file's bytes, a manifest's ``publishedAt`` blanked: it is the publish's time."""
    result = dict(files)
    for path, body in files.items():
        if path.endswith("manifest.json"):
            manifest = json.loads(body)
            for entry in manifest["files"]:
                entry["publishedAt"] = None
            result[path] = json.dumps(manifest).encode()
    return result


def test_a_batch_read_in_chunks_publishes_what_the_run_published(
    built, dataset, tmp_path, monkeypatch
):
    """A batch's documents read by several queries, each chunk's while the files of the chunk
    before are written (a workspace a chunk here, as in a batch of hundreds), give the files
    the run wrote, byte for byte."""
    from label_overview import publishing

    monkeypatch.setattr(publishing, "FIRST_CHUNK", 1)
    workspace_ids = dataset.vip_workspace_ids()
    assert len(list(publishing._chunks(workspace_ids))) == len(workspace_ids) > 1
    home = copy_of_built_home(built, tmp_path)
    settings = Settings(home=home)
    publication = steps.publish(settings, workspace_ids, LAST_DAY, run_id="test")
    assert publication.errors() == []
    assert published_snapshots(home) == published_snapshots(built["home"])
    pages = [
        {p.relative_to(h).as_posix(): p.read_bytes() for p in (h / "exports").rglob("*.html")}
        for h in (home, built["home"])
    ]
    assert pages[0] == pages[1] and len(pages[0]) == len(published_snapshots(home)) / 2


def test_a_batch_publishes_what_each_workspace_publishes_alone(built, dataset, tmp_path):
    import duckdb

    from label_overview.publishing import Publication
    from label_overview.windows import trailing_window

    # One workspace is held back by a pair whose extract failed; the other has a pair with a
    # day never landed (taken out of the coverage ledger) beside a whole one.
    held, partial = sorted(dataset.vip_workspace_ids())
    failed_channel = dataset.channels_of(held)[0]["id"]
    gap_channel, whole_channel = sorted(channel["id"] for channel in dataset.channels_of(partial))
    gap = LAST_DAY - dt.timedelta(days=3)
    failed = {(held, failed_channel): (Window(LAST_DAY, LAST_DAY),)}
    outcomes = {}
    for how in ("batch", "alone"):
        home = copy_of_built_home(built, tmp_path / how)
        with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
            connection.execute(
                """delete from marts.fct_landing_coverage
                   where workspace_id = $w and channel_id = $m and day = $d""",
                {"w": partial, "m": gap_channel, "d": gap},
            )
        settings = Settings(home=home)
        batches = [[held, partial]] if how == "batch" else [[held], [partial]]
        publications = [
            steps.publish(settings, batch, LAST_DAY, failed, run_id="test") for batch in batches
        ]
        exports = home / "exports"
        files = {
            p.relative_to(exports).as_posix(): p.read_bytes()
            for p in exports.rglob("*")
            if p.is_file()
        }
        outcomes[how] = publications, files, publish_records(settings, "test")

    window = trailing_window(LAST_DAY)
    skipped = {held: [f"{held}/{failed_channel} ({LAST_DAY}..{LAST_DAY})"]}
    incomplete = {(partial, gap_channel): [gap]}
    batch_publications, batch_files, batch_records = outcomes["batch"]
    alone_publications, alone_files, alone_records = outcomes["alone"]
    assert batch_publications == [Publication(2, skipped, incomplete, window)]
    assert alone_publications == [
        Publication(0, skipped, {}, window),
        Publication(2, {}, incomplete, window),
    ]
    assert batch_publications[0].errors() == [
        f"workspace {held}: extract failed for {held}/{failed_channel}"
        f" ({LAST_DAY}..{LAST_DAY}); not publishing",
        f"{partial}/{gap_channel}: {gap} never landed; not publishing its {window} snapshots",
    ]
    # The same files, byte for byte (a manifest's publication time aside): the whole pair's
    # snapshots and page, as the full run published them, and the manifest listing them.
    name = f"{window.first_day}_{window.last_day}.json"
    published = [
        f"{partial}/{whole_channel}/day/{name}",
        f"{partial}/{whole_channel}/report/label-trends.html",
        f"{partial}/{whole_channel}/week/{name}",
    ]
    assert sorted(batch_files) == sorted([f"{partial}/manifest.json", *published])
    for path in published:
        assert batch_files[path] == (built["home"] / "exports" / path).read_bytes()
    manifest = json.loads(batch_files[f"{partial}/manifest.json"])
    assert len({entry["publishedAt"] for entry in manifest["files"]}) == 1
    # The times of the publish and of the fetches aside (a rerun of the full run's may have
    # fetched again since, and kept its manifest's times with its unchanged bytes).
    full_run = json.loads((built["home"] / "exports" / partial / "manifest.json").read_bytes())
    times = dict.fromkeys(("publishedAt", "fetchedFrom", "fetchedTo"))
    assert [entry | times for entry in manifest["files"]] == [
        entry | times for entry in full_run["files"] if entry["mediumId"] == whole_channel
    ]
    assert without_publication_times(batch_files) == without_publication_times(alone_files)
    # One record per workspace, as each publishing alone leaves.
    assert (
        batch_records
        == alone_records
        == [
            {
                "run_id": "test",
                "step": "publish",
                "workspace_id": held,
                "files": 0,
                "errors": batch_publications[0].errors()[:1],
            },
            {
                "run_id": "test",
                "step": "publish",
                "workspace_id": partial,
                "files": 2,
                "errors": batch_publications[0].errors()[1:],
            },
        ]
    )


def test_a_runs_plan_converts_an_older_landing_first(built, dataset, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["home"] / "landing", home / "landing")
    partitions = land_jsonl_as_older_releases_did(built, dataset, home / "landing")
    settings = Settings.from_env({**built["env"], "LABEL_OVERVIEW_HOME": str(home)})

    steps.plan(settings, Window(LAST_DAY, LAST_DAY), run_id="test")
    assert not list((home / "landing").rglob(landing.JSONL_MESSAGES_FILE))
    assert len(list((home / "landing").rglob(landing.MESSAGES_FILE))) == partitions
    assert landing.is_columnar(home / "landing")


def test_export_for_days_never_landed_says_so_and_prints_nothing(built, dataset):
    # The run landed its trailing window, 2026-05-22..2026-06-21: April was never pulled.
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = min(channel["id"] for channel in dataset.channels_of(workspace_id))
    result = cli(
        built["env"],
        "export",
        "--workspace",
        workspace_id,
        "--medium",
        medium_id,
        "--from",
        "2026-04-25",
        "--to",
        "2026-05-23",
        "--group-by",
        "week",
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"label-overview export: error: {workspace_id}/{medium_id}: 2026-04-25..2026-05-21"
        " never landed; land them with `label-overview run --from 2026-04-25 --to 2026-05-21"
        f" --workspace {workspace_id}`\n"
    )
    report = cli(
        built["env"],
        "report",
        "--workspace",
        workspace_id,
        "--from",
        "2026-04-25",
        "--to",
        "2026-05-23",
    )
    assert report.returncode == 1
    assert report.stdout == ""
    assert report.stderr.startswith(
        f"label-overview report: error: {workspace_id}/{medium_id}: 2026-04-25..2026-05-21 never"
    )
    assert report.stderr.count("\n") == 1


def status_of(home, env) -> tuple[int, str]:
    result = cli({**env, "LABEL_OVERVIEW_HOME": str(home)}, "status", "--json")
    assert result.stderr == ""
    document = json.loads(result.stdout)
    jsonschema.validate(document, label_overview_status_schema())
    return result.returncode, document


def test_status_is_healthy_after_a_run_and_names_what_breaks_it(built, dataset, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["home"] / "landing", home / "landing")
    shutil.copytree(built["home"] / "exports", home / "exports")
    pairs = sorted(
        (w, c["id"]) for w in dataset.vip_workspace_ids() for c in dataset.channels_of(w)
    )

    returncode, document = status_of(home, built["env"])
    assert returncode == 0
    assert document["healthy"] is True
    assert [(p["workspace_id"], p["channel_id"]) for p in document["pairs"]] == pairs
    assert {p["newest_landed_day"] for p in document["pairs"]} == {str(LAST_DAY)}
    assert all(p["missing_days"] == [] and p["last_error"] is None for p in document["pairs"])
    text = cli({**built["env"], "LABEL_OVERVIEW_HOME": str(home)}, "status")
    assert (text.returncode, len(text.stdout.splitlines())) == (0, len(pairs))

    # A day deleted from the window: that pair, that day.
    workspace_id, channel_id = pairs[0]
    hole = LAST_DAY - dt.timedelta(days=3)
    partition = landing.message_partition_path(home / "landing", workspace_id, channel_id, hole)
    shutil.rmtree(partition.parent)
    returncode, document = status_of(home, built["env"])
    assert returncode == 1
    assert [
        (p["channel_id"], p["missing_days"]) for p in document["pairs"] if not p["healthy"]
    ] == [(channel_id, [str(hole)])]

    # The newest fetch older than the limit (50 hours): stale.
    shutil.copytree(built["home"] / "landing", home / "landing", dirs_exist_ok=True)
    newest = landing.message_partition_path(home / "landing", *pairs[-1], LAST_DAY)
    record = json.loads(newest.with_name(landing.LANDED_FILE).read_text())
    record["fetchedAt"] = "2026-01-01T00:00:00.000Z"
    newest.with_name(landing.LANDED_FILE).write_text(json.dumps(record))
    returncode, document = status_of(home, built["env"])
    assert returncode == 1
    assert [(p["channel_id"], p["fresh"]) for p in document["pairs"] if not p["healthy"]] == [
        (pairs[-1][1], False)
    ]


def test_the_read_copy_opens_in_the_duckdb_cli_of_the_index(built, tmp_path):
    # The newest CLI the package index holds, installed as an analyst would, beside the
    # project: 1.5.6 today, which cannot read the 2.0 warehouse itself.
    uv = Path(sys.executable).with_name("uv")
    subprocess.run([str(uv), "venv", "-q", str(tmp_path / "analyst")], check=True, timeout=60)
    analyst_python = tmp_path / "analyst" / "bin" / "python"
    subprocess.run(
        [str(uv), "pip", "install", "-q", "--python", str(analyst_python), "duckdb-cli"],
        check=True,
        timeout=300,
    )
    duckdb_cli = analyst_python.with_name("duckdb")
    home = built["home"]
    query = "select count(*) from marts.fct_user_messages"

    def cli_count(database: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(duckdb_cli), "-readonly", "-csv", "-noheader", database, "-c", query],
            cwd=home,
            capture_output=True,
            text=True,
            timeout=60,
        )

    with read_only(home / "warehouse.duckdb") as connection:
        [(expected,)] = connection.execute(query).fetchall()
    assert expected > 0
    opened = cli_count("warehouse.read.duckdb")
    assert (opened.returncode, opened.stdout.strip()) == (0, str(expected))
    refused = cli_count("warehouse.duckdb")
    assert refused.returncode == 1
    assert "version number 69" in refused.stderr


def test_every_mart_is_published_as_parquet_with_the_same_rows(built):
    import duckdb

    home = built["home"]
    with read_only(home / "warehouse.duckdb") as connection:
        marts = connection.execute(
            """select table_name, string_agg(column_name, ', ' order by ordinal_position)
               from information_schema.columns
               inner join information_schema.tables using (table_schema, table_name)
               where table_schema = 'marts' and table_type = 'BASE TABLE'
               group by table_name
               order by table_name"""
        ).fetchall()
        expected = {
            name: connection.execute(f"select {columns} from marts.{name} order by all").fetchall()
            for name, columns in marts
        }
    assert sorted(p.name for p in (home / "parquet").iterdir() if p.is_symlink()) == sorted(
        expected
    )
    with duckdb.connect() as reader:  # no warehouse at all: the files alone
        found = {
            name: reader.execute(
                f"select {columns} from read_parquet('{home}/parquet/{name}/**/*.parquet',"
                " hive_partitioning = true) order by all"
            ).fetchall()
            for name, columns in marts
        }
    assert found == expected
    with read_only(home / "warehouse.duckdb") as connection:
        workspaces = connection.execute(
            "select distinct workspace_id from marts.fct_label_counts_daily order by all"
        ).fetchall()
    assert len(workspaces) > 1
    assert sorted(p.name for p in (home / "parquet" / "fct_label_counts_daily").iterdir()) == [
        f"workspace_id={w}" for (w,) in workspaces
    ]


def test_pyarrow_reads_every_parquet_mart_with_the_warehouse_counts_and_keys(built):
    import hashlib

    import pyarrow.dataset as ds

    home = built["home"]
    with read_only(home / "warehouse.duckdb") as connection:
        marts = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' and table_type = 'BASE TABLE' order by all"
            ).fetchall()
        ]
        # The key every mart has: the workspace (hive's partition column where partitioned).
        keys = {
            name: connection.execute(f"select workspace_id from marts.{name}").fetchall()
            for name in marts
        }
        counts = {
            name: connection.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for name in marts
        }

    def digest(rows) -> str:
        return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()

    for name in marts:
        table = ds.dataset(
            home / "parquet" / name, format="parquet", partitioning="hive"
        ).to_table()
        assert table.num_rows == counts[name], name
        found = [(value,) for value in table.column("workspace_id").to_pylist()]
        assert digest(found) == digest(keys[name]), name


def test_every_mart_carries_its_documentation_in_the_warehouse(built):
    import yaml

    from label_overview.transform import DBT_PROJECT_DIR

    marts = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/_marts__models.yml").read_text())
    with read_only(built["home"] / "warehouse.duckdb") as connection:
        relations = dict(
            connection.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
                " union all select view_name, comment from duckdb_views()"
                " where schema_name = 'marts'"
            ).fetchall()
        )
        columns = {
            (table, column): comment
            for table, column, comment in connection.execute(
                "select table_name, column_name, comment from duckdb_columns()"
                " where schema_name = 'marts'"
            ).fetchall()
        }
    for model in marts["models"]:
        assert relations[model["name"]] == model["description"], model["name"]
        for column in model["columns"]:
            assert columns[model["name"], column["name"]] == column["description"], column
    assert len(marts["models"]) == len(relations) == 13
    assert columns["fct_user_messages", "sent_at"] == "When sent, UTC."
