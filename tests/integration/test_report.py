"""The label trend report: published beside the snapshots, loaded in a real headless browser
(Debian's chromium), with no console errors and the snapshot's numbers in its charts."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DATA_DAYS, DATA_START, cli, pipeline_env

LAST_DAY = DATA_START + dt.timedelta(days=DATA_DAYS - 1)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def published(tmp_path_factory, dataset_dir, dataset):
    from dynamo_emulator.server import running_emulator

    home = tmp_path_factory.mktemp("report")
    with running_emulator(dataset_dir) as emulator:
        result = cli(
            pipeline_env(emulator, dataset, home),
            "run",
            "--from",
            str(LAST_DAY - dt.timedelta(days=6)),
            "--to",
            str(LAST_DAY),
        )
    assert result.returncode == 0, result.stderr
    return home


def browse(page: Path, profile: Path) -> tuple[str, str]:
    """The page's DOM after loading, and what the browser logged."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: `make test` installs Debian's package"
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def test_each_channel_has_a_page_and_charts(published, dataset):
    for workspace_id in dataset.vip_workspace_ids():
        for channel in dataset.channels_of(workspace_id):
            folder = published / "exports" / workspace_id / channel["id"] / "report"
            assert (folder / "label-trends.html").read_text().startswith("<!doctype html>")
            for group_by in ("day", "week"):
                assert (folder / f"label-trends-{group_by}.png").read_bytes()[
                    :8
                ] == b"\x89PNG\r\n\x1a\n"


def test_the_browser_shows_the_snapshot_numbers_without_errors(published, dataset, tmp_path):
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    folder = published / "exports" / workspace_id / medium_id
    dom, log = browse(folder / "report" / "label-trends.html", tmp_path / "profile")
    assert "CONSOLE" not in log and "Uncaught" not in log, log
    window = f"{LAST_DAY - dt.timedelta(days=30)}_{LAST_DAY}.json"
    for group_by in ("day", "week"):
        snapshot = json.loads((folder / group_by / window).read_text())
        section = dom.split(f'data-group-by="{group_by}"')[1].split("</section>")[0]
        embedded = re.search(
            r'<script type="application/json" id="overview-\w+">(.*?)</script>', section, re.S
        )
        assert json.loads(embedded[1]) == snapshot
        bars = dict(
            re.findall(
                r'class="activity"[^>]*data-bucket="([\d-]+)" data-user-messages="(\d+)"', section
            )
        )
        assert {b: int(n) for b, n in bars.items()} == {
            b: a["userMessages"] for b, a in snapshot["activity"].items()
        }
        points = re.findall(
            r'class="rate"[^>]*data-bucket="([\d-]+)" data-label="([^"]+)" data-count="(\d+)"',
            section,
        )
        assert points
        for bucket, label, count in points:
            assert int(count) == snapshot["buckets"][bucket].get(label, {}).get("count", 0)
        shown = {label for _, label, _ in points}
        top = sorted(snapshot["totals"], key=lambda lb: (-snapshot["totals"][lb]["count"], lb))[:6]
        assert shown == set(top)
    for label, meta in snapshot["customLabels"].items():
        if label in shown and meta["color"]:
            assert f'fill="{meta["color"]}"' in dom


def test_cli_report_renders_a_window(published, dataset, tmp_path):
    workspace_id = dataset.vip_workspace_ids()[0]
    env = {**os.environ, "LABEL_OVERVIEW_HOME": str(published)}
    result = cli(
        env,
        "report",
        "--workspace",
        workspace_id,
        "--from",
        str(LAST_DAY - dt.timedelta(days=6)),
        "--to",
        str(LAST_DAY),
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    pages = sorted(tmp_path.rglob("label-trends.html"))
    assert len(pages) == len(dataset.channels_of(workspace_id))
    assert result.stdout.splitlines()[0] == str(pages[0])
    bad = cli(env, "report", "--workspace", "nope")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "label-overview report: error: unknown workspace 'nope'"
        " (not a VIP workspace in the warehouse)"
    ]
