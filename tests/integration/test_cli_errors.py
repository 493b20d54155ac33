"""Bad input from users: one line on stderr, a non-zero exit, no traceback, nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import cli, pipeline_env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("run", "--from", "2026-6-1", "--to", "2026-06-02"),
            "from must be a date like 2026-06-01",
        ),
        (("run", "--from", "2026-06-05", "--to", "2026-06-02"), "is after to"),
        (("run", "--from", "2026-02-30", "--to", "2026-03-02"), "from must be a date"),
        (
            ("run", "--from", "0001-01-01", "--to", "2026-03-02"),
            "from must lie between 1970-01-01 and 9998-12-31, got '0001-01-01'",
        ),
        (
            ("run", "--from", "9999-12-31", "--to", "9999-12-31"),
            "from must lie between 1970-01-01 and 9998-12-31, got '9999-12-31'",
        ),
        (
            (
                "export",
                "--workspace",
                "W",
                "--medium",
                "M",
                "--from",
                "2026-06-01",
                "--to",
                "2026-07-02",
            ),
            "at most 31 are allowed",
        ),
        (
            (
                "export",
                "--workspace",
                "W",
                "--medium",
                "M",
                "--from",
                "2026-06-01",
                "--to",
                "2026-06-02",
            ),
            "no warehouse at",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, emulator, dataset, args, message):
    home = tmp_path / "home"
    result = cli(pipeline_env(emulator, dataset, home), *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not home.exists()


def test_missing_api_settings(tmp_path, emulator, dataset):
    env = pipeline_env(emulator, dataset, tmp_path / "home")
    del env["DYNAMO_API_SECRET"]
    result = cli(env, "run", "--from", "2026-06-01", "--to", "2026-06-01")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "label-overview run: error: missing API settings: DYNAMO_API_SECRET"
    )


def test_unknown_workspace_in_export_and_run(tmp_path, emulator, dataset):
    env = pipeline_env(emulator, dataset, tmp_path)
    workspace = dataset.vip_workspace_ids()[0]
    assert (
        cli(
            env, "run", "--from", "2026-06-01", "--to", "2026-06-01", "--workspace", workspace
        ).returncode
        == 0
    )
    result = cli(
        env,
        "export",
        "--workspace",
        "nope",
        "--medium",
        "M",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-01",
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "label-overview export: error: unknown workspace 'nope'"
        " (not a VIP workspace in the warehouse)"
    ]
    result = cli(env, "run", "--from", "2026-06-01", "--to", "2026-06-01", "--workspace", "nope")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "label-overview run: error: not a VIP workspace of this organization: nope"
    )


def test_a_secret_that_is_not_utf8_is_named_and_not_shown(tmp_path, emulator, dataset):
    # A byte that is no UTF-8 reaches Python as a lone surrogate: requests cannot be signed.
    env = {
        **{
            key.encode(): value.encode()
            for key, value in pipeline_env(emulator, dataset, tmp_path).items()
        },
        b"DYNAMO_API_SECRET": b"s3cr\xffet",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "label_overview.cli",
            "run",
            "--from",
            "2026-06-01",
            "--to",
            "2026-06-01",
        ],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        result.stderr == b"label-overview run: error: DYNAMO_API_SECRET is not valid UTF-8 text\n"
    )
    assert not tmp_path.joinpath("landing").exists()
