"""The label trend report: published beside the snapshots, and loaded offline in a real
headless browser (Debian's chromium, ``tests/chromium.py``) with the network cut: it renders
one panel per top label with labelled axes and tooltips, shows the snapshot's numbers, logs
nothing to the console and requests nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import struct
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from label_overview.report_charts import PALETTE
from tests.chromium import VIEWPORT, Chromium
from tests.conftest import DATA_DAYS, DATA_START, cli, pipeline_env

LAST_DAY = DATA_START + dt.timedelta(days=DATA_DAYS - 1)
SNAPSHOT_WINDOW = (LAST_DAY - dt.timedelta(days=30), LAST_DAY)
RENDERED = "document.body.dataset.rendered === 'true'"
X_TITLES = {"day": "UTC day", "week": "ISO week (from its Monday, UTC)"}
Y_TITLES = ("% of user messages", "user messages (all)")
TOOLTIP = ("label", "messages", "conversations", "rate", "user messages")
# The spec's tooltips, (title, field): a point's, then a bar's; the first names the bucket.
POINT_TOOLTIP = [
    ("label", "label"),
    ("messages", "messages"),
    ("conversations", "conversations"),
    ("rate", "rate"),
    ("user messages", "userMessages"),
]
BAR_TOOLTIP = [("user messages", "userMessages"), ("active conversations", "activeConversations")]
URL = re.compile(r"(?:https?|wss?)://[^\s\"'`<>()\\]+")
# The inlined Vega bundle names these, and fetches none of them: XML namespaces, a link in an
# error message, vega-embed's editor link (its actions menu is off) and Vega's schema id.
BUNDLE_URLS = {
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "https://github.com/vega/vega-lite/issues/2415",
    "https://vega.github.io/editor/",
    "https://vega.github.io/schema/vega/v6.json",
}
# What the page says about itself once rendered, per grouping: panels, axis titles, the
# accessible descriptions of points and bars (Vega-Lite writes each mark's tooltip fields
# there), the partial-week notes, and each panel's line colour.
PROBE = """(() => {
  const section = document.querySelector(`section[data-group-by="GROUP"]`);
  const all = (selector) => Array.from(section.querySelectorAll(selector));
  return {
    overview: JSON.parse(document.getElementById("overview-GROUP").textContent),
    spec: JSON.parse(document.getElementById("spec-GROUP").textContent),
    panels: all("g.role-scope.cell > g").length,
    axisTitles: all("g.role-axis-title text").map((text) => text.textContent),
    points: all('path[aria-roledescription="point"]').map((p) => p.getAttribute("aria-label")),
    bars: all('path[aria-roledescription="bar"]').map((p) => p.getAttribute("aria-label")),
    notes: all("text").filter((text) => text.textContent === "partial week").length,
    lines: all('path[aria-roledescription="line mark"]').map((p) => p.getAttribute("stroke")),
  };
})()"""


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


def test_each_channel_has_a_page_and_no_charts_a_run_did_not_ask_for(published, dataset):
    for workspace_id in dataset.vip_workspace_ids():
        for channel in dataset.channels_of(workspace_id):
            folder = published / "exports" / workspace_id / channel["id"] / "report"
            assert (folder / "label-trends.html").read_text().startswith("<!doctype html>")
            assert sorted(path.name for path in folder.iterdir()) == ["label-trends.html"]


def test_the_page_names_no_url_but_the_bundles_inert_ones(published, dataset):
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    page = published / "exports" / workspace_id / medium_id / "report" / "label-trends.html"
    scripts = re.findall(r"<script>(.*?)</script>", page.read_text(), re.S)
    bundle = max(scripts, key=len)
    assert set(URL.findall(bundle)) == BUNDLE_URLS
    assert URL.findall(page.read_text().replace(bundle, "")) == []


def test_the_browser_catches_console_errors_and_requests(tmp_path):
    """The checks below can fail: a page that logs an error and asks the network is caught,
    and its request never leaves."""
    page = tmp_path / "noisy.html"
    page.write_text(
        '<!doctype html><img src="https://example.com/pixel.png">'
        "<script>console.error('boom'); document.body.dataset.rendered = 'true';</script>"
    )
    with Chromium(tmp_path / "profile") as browser:
        browser.open(page.as_uri(), RENDERED)
        loaded = browser.evaluate("document.querySelector('img').naturalWidth")
    assert loaded == 0
    assert browser.requests == [page.as_uri(), "https://example.com/pixel.png"]
    assert browser.console == ["console.error: boom"]


def test_the_browser_shows_the_snapshot_numbers_offline(published, dataset, tmp_path, request):
    """The page renders with the network cut, says nothing in the console, and shows the
    snapshot's numbers; its screenshot is kept (``keep_screenshot``: the path is printed)."""
    workspace_id = dataset.vip_workspace_ids()[0]
    medium_id = dataset.channels_of(workspace_id)[0]["id"]
    folder = published / "exports" / workspace_id / medium_id
    page = folder / "report" / "label-trends.html"
    with Chromium(tmp_path / "profile") as browser:
        browser.open(page.as_uri(), RENDERED)
        probes = {g: browser.evaluate(PROBE.replace("GROUP", g)) for g in ("day", "week")}
        tooltip, point = hover_first_point(browser, "week")
        screenshot = browser.screenshot()
    assert browser.console == []
    assert browser.requests == [page.as_uri()]
    window = f"{SNAPSHOT_WINDOW[0]}_{SNAPSHOT_WINDOW[1]}.json"
    for group_by, probe in probes.items():
        snapshot = json.loads((folder / group_by / window).read_text())
        assert probe["overview"] == snapshot
        check_panels(group_by, probe, snapshot)
    assert tooltip == {key: point[key] for key in ("week", *TOOLTIP)}
    keep_screenshot(screenshot, tmp_path, request)


def check_panels(group_by: str, probe: dict, snapshot: dict) -> None:
    """One panel per top label, axes titled, every point and bar the snapshot's numbers."""
    top = sorted(snapshot["totals"], key=lambda lb: (-snapshot["totals"][lb]["count"], lb))[:6]
    assert top, "the dataset gives every channel labels"
    n = len(top)
    assert probe["panels"] == n
    assert Counter(probe["axisTitles"]) == {X_TITLES[group_by]: n, **dict.fromkeys(Y_TITLES, n)}
    assert probe["lines"] == expected_colors(snapshot, top)
    period = (group_by, "period")
    assert tooltips(probe["spec"]) == [[period, *BAR_TOOLTIP], [period, *POINT_TOOLTIP]]
    partial = partial_weeks(snapshot) if group_by == "week" else {}
    assert probe["notes"] == n * len(partial)
    names = {lb: snapshot["customLabels"].get(lb, {}).get("name", lb) for lb in top}
    expected_points = {
        (bucket, names[label], counts(snapshot, bucket, label), activity["userMessages"])
        for label in top
        for bucket, activity in snapshot["activity"].items()
        if activity["userMessages"]  # no rate without user messages: no point
    }
    shown = points_shown(probe["points"], group_by)
    assert len(shown) == len(expected_points)
    assert {
        (p["bucket"], p["label"], (p["messages"], p["conversations"]), p["user messages"])
        for p in shown
    } == expected_points
    for point in shown:
        messages, users = point["messages"], point["user messages"]
        assert point["rate"] == d3_percent(messages / users), point
        assert_partial_marked(point[group_by], partial.get(point["bucket"]))
    bars = Counter()
    for fields in map(aria_fields, probe["bars"]):
        bucket = fields[X_TITLES[group_by]]
        assert_partial_marked(fields[group_by], partial.get(bucket))
        bars[bucket, fields["user messages"], fields["active conversations"]] += 1
    assert bars == {
        (b, f"{a['userMessages']:,}", f"{a['activeConversations']:,}"): n
        for b, a in snapshot["activity"].items()
    }


def tooltips(spec: dict | list) -> list[list[tuple[str, str]]]:
    """Every tooltip the Vega-Lite spec declares, as (title, field) lists, in spec order."""
    found = []
    for key, value in spec.items() if isinstance(spec, dict) else enumerate(spec):
        if key == "tooltip":
            found.append([(entry["title"], entry["field"]) for entry in value])
        elif isinstance(value, dict | list):
            found.extend(tooltips(value))
    return found


def counts(snapshot: dict, bucket: str, label: str) -> tuple[int, int]:
    cell = snapshot["buckets"][bucket].get(label, {"count": 0, "uniqueConversations": 0})
    return cell["count"], cell["uniqueConversations"]


def expected_colors(snapshot: dict, top: list[str]) -> list[str]:
    """Custom labels their own colour, the other labels the palette in rank order."""
    palette = iter(PALETTE)
    return [snapshot["customLabels"].get(lb, {}).get("color") or next(palette) for lb in top]


def partial_weeks(snapshot: dict) -> dict[str, int]:
    """Weeks not wholly inside the window, with how many of their days are."""
    first, last = (dt.date.fromisoformat(snapshot[key][:10]) for key in ("from", "to"))
    weeks = {}
    for bucket in snapshot["activity"]:
        days = [dt.date.fromisoformat(bucket) + dt.timedelta(days=i) for i in range(7)]
        inside = sum(first <= day <= last for day in days)
        if inside < 7:
            weeks[bucket] = inside
    return weeks


def assert_partial_marked(period: str, days_inside: int | None) -> None:
    """A bucket's tooltip says "partial" exactly when it is a partial week, with its days."""
    if days_inside is None:
        assert "partial" not in period, period
    else:
        assert period.endswith(f"(partial: {days_inside} of 7 days in the window)"), period


def aria_fields(label: str) -> dict[str, str]:
    return dict(field.split(": ", 1) for field in label.split("; "))


def points_shown(labels: list[str], group_by: str) -> list[dict]:
    """The rate points' tooltip fields, numbers as numbers, and the bucket they stand on."""
    points = []
    for fields in map(aria_fields, labels):
        point = {key: fields[key] for key in (group_by, *TOOLTIP)}
        for key in ("messages", "conversations", "user messages"):
            point[key] = int(point[key].replace(",", ""))
        points.append({**point, "bucket": fields[X_TITLES[group_by]]})
    return points


def d3_percent(rate: float) -> str:
    """``rate`` as d3-format's ".1%" writes it: JavaScript's toFixed rounds the exact binary
    value half up, which Python's own formatting (half to even) does not."""
    exact = Decimal(rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{exact}%"


def hover_first_point(browser: Chromium, group_by: str) -> tuple[dict, dict]:
    """Hover the first rate point of a grouping: the tooltip the page then shows, and the
    point's own description."""
    x, y, described = browser.evaluate(
        f"""(() => {{
          const point = document.querySelector(
            'section[data-group-by="{group_by}"] path[aria-roledescription="point"]');
          point.scrollIntoView({{block: "center"}});
          const box = point.getBoundingClientRect();
          return [box.x + box.width / 2, box.y + box.height / 2, point.getAttribute("aria-label")];
        }})()"""
    )
    browser.hover(x, y)
    rows = browser.evaluate(
        """new Promise((resolve) => {
          const read = () => {
            const tip = document.getElementById("vg-tooltip-element");
            if (!tip || !tip.classList.contains("visible")) return setTimeout(read, 50);
            resolve(Array.from(tip.querySelectorAll("tr"), (tr) =>
              [tr.cells[0].textContent, tr.cells[1].textContent]));
          };
          read();
        })"""
    )
    return dict(rows), aria_fields(described)


def keep_screenshot(png: bytes, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The rendered page as a test artifact: in the test's tmp dir, and copied to a path that
    outlives the run (pytest's cache folder, or $LABEL_OVERVIEW_TEST_ARTIFACTS)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == VIEWPORT["width"] and height > VIEWPORT["height"], (width, height)
    shot = tmp_path / "label-trends.png"
    shot.write_bytes(png)
    artifacts = os.environ.get("LABEL_OVERVIEW_TEST_ARTIFACTS")
    folder = Path(artifacts) if artifacts else request.config.cache.mkdir("label-trends-report")
    folder.mkdir(parents=True, exist_ok=True)
    kept = Path(shutil.copy(shot, folder / "label-trends.png"))
    request.node.user_properties.append(("screenshot", str(kept)))
    print(f"screenshot: {kept}")


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
    written = [Path(line) for line in result.stdout.splitlines()]
    assert written == [
        page.with_name(name)
        for page in pages
        for name in ("label-trends.html", "label-trends-day.png", "label-trends-week.png")
    ]
    for png in written[1::3] + written[2::3]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A page written again without charts takes the older charts away: they would disagree.
    from label_overview.report import ChannelReport, write_reports

    channel_id = pages[0].parent.parent.name
    assert write_reports(tmp_path, workspace_id, [ChannelReport(channel_id, b"<p>", {})]) == [
        pages[0]
    ]
    assert sorted(path.name for path in pages[0].parent.iterdir()) == ["label-trends.html"]
    bad = cli(env, "report", "--workspace", "nope")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "label-overview report: error: unknown workspace 'nope'"
        " (not a VIP workspace in the warehouse)"
    ]
