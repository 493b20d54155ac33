"""No secret anywhere, no personal text unless asked, no workspace in another's snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from label_overview import landing
from tests.conftest import FIRST_WEEK, cli, pipeline_env


def every_file_under(root: Path):
    return [p for p in root.rglob("*") if p.is_file()]


def test_the_secret_is_nowhere(tmp_path, emulator, dataset):
    secret = dataset.api_keys[0]["secret"]
    env = pipeline_env(emulator, dataset, tmp_path)
    # Retries log and re-sign requests: one in ten fails, so every run has some, and none gives
    # up (at 0.2 a request failed all 6 of its attempts about once in 80 runs).
    emulator.control.set_faults(fail_rate=0.1, retry_after_s=0, seed=7)
    result = cli(env, "run", *FIRST_WEEK)
    assert result.returncode == 0, result.stderr
    assert ", retry 1 of 5 in " in result.stderr
    failing = cli({**env, "DYNAMO_API_BASE_URL": emulator.base_url + "/nope"}, "run", *FIRST_WEEK)
    assert failing.returncode != 0
    for output in (result.stdout, result.stderr, failing.stdout, failing.stderr):
        assert secret not in output
    files = every_file_under(tmp_path)
    assert any(p.name == "warehouse.duckdb" for p in files)
    assert any(p.name == "dbt.log" for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_text_and_user_names_only_when_asked(tmp_path, emulator, dataset, first_week_home):
    texts = {m["text"] for m in dataset.messages} | {m["userName"] for m in dataset.messages}
    plain, kept = first_week_home, tmp_path / "kept"
    result = cli(pipeline_env(emulator, dataset, kept), "run", *FIRST_WEEK, "--keep-text")
    assert result.returncode == 0, result.stderr
    plain_landing, kept_landing = landed_personal_fields(plain), landed_personal_fields(kept)
    rows = plain_landing[0]
    assert rows > 0
    assert plain_landing == (rows, 0, 0, set())
    assert kept_landing[:3] == (rows, rows, rows)
    assert kept_landing[3] <= texts
    for home in (plain, kept):
        connection = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            columns = {
                c
                for (c,) in connection.execute(
                    "select column_name from information_schema.columns"
                ).fetchall()
            }
            assert not columns & {"text", "userName", "user_name", "message_text"}
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_type = 'BASE TABLE'"
            ).fetchall():
                dump = json.dumps(
                    connection.execute(f'select * from "{schema}"."{table}"').fetchall(),
                    default=str,
                )
                assert not any(f'"{t}"' in dump for t in texts if len(t) > 3), table
        finally:
            connection.close()


def landed_personal_fields(home) -> tuple[int, int, int, set[str]]:
    """A landing's message rows, how many hold a text, how many a user name, and those values."""
    partitions = sorted((home / "landing" / "vip_messages").rglob(landing.MESSAGES_FILE))
    rows, with_text, with_name, texts, names = duckdb.execute(
        """select count(*), count("text"), count("userName"),
                  list(distinct "text"), list(distinct "userName")
           from read_parquet($files)""",
        {"files": [str(path) for path in partitions]},
    ).fetchone()
    return rows, with_text, with_name, {v for v in texts + names if v is not None}


def test_each_workspace_folder_holds_only_its_own_ids(dataset, first_week_home):
    workspaces = set(dataset.vip_workspace_ids()) | {w["id"] for w in dataset.workspaces}
    own_channels = {w: {c["id"] for c in dataset.channels_of(w)} for w in workspaces}
    all_channels = {c["id"] for c in dataset.channels}
    folders = sorted(p for p in (first_week_home / "exports").iterdir() if p.is_dir())
    assert [p.name for p in folders] == sorted(dataset.vip_workspace_ids())
    for folder in folders:
        text = "".join(p.read_text() for p in folder.rglob("*.json"))
        assert not [w for w in workspaces - {folder.name} if w in text]
        assert not [c for c in all_channels - own_channels[folder.name] if c in text]
