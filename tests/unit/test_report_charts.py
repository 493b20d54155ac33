"""The report's charts from small documents: colours, partial weeks, panels, and a page that
no label name can break out of. Charts are rendered to SVG offline (vl-convert) and read
back, so what is checked is what is drawn. The page's JSON, written as text for speed, is held
to ``json.dumps``' bytes for any label."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import altair
import jsonschema
import pytest
import vl_convert
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo_emulator.reference import compute_label_overview
from label_overview.files import cache_dir
from label_overview.overview import render_label_overview
from label_overview.report import channel_reports, overview_json
from label_overview.report_charts import (
    PALETTE,
    VEGA_LITE_VERSION,
    chart_spec,
    chart_spec_json,
    display_name,
    javascript_bundle,
    label_colors,
    panel_rows_json,
    panel_titles,
    period_text,
    script_json,
    top_labels,
    week_days_in_window,
)
from label_overview.windows import GROUP_BYS, Window

W, M = "ws_fixed", "FB_PAGE_100000000000001"
# Wednesday 3 June to Wednesday 17 June: five days of the first ISO week, all of the second,
# three of the third.
WINDOW = Window.parse("2026-06-03", "2026-06-17")
CUSTOM = {
    "cl_refund": {"name": "Refund </script><!-- request", "color": "#ff8800"},
    "cl_bad": {"name": "Bad colour", "color": "red;background:url(https://example.com/x)"},
}


def at(day: str) -> int:
    return int(dt.datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp() * 1000)


def message(conversation: str, day: str, labels=(), custom=()) -> dict:
    return {
        "workspaceId": W,
        "mediumId": M,
        "timestamp": at(day),
        "date": "",
        "conversationId": conversation,
        "userName": "x",
        "kind": "text",
        "source": "messenger",
        "labels": list(labels),
        "customLabelIds": list(custom),
        "text": "x",
    }


# Ranks: cl_refund 4, question 3, cl_gone 2 (no metadata), cl_bad 2, frustrated 1.
MESSAGES = [
    message("c1", "2026-06-03", ["question"], ["cl_refund"]),
    message("c2", "2026-06-04", ["question"], ["cl_refund", "cl_gone"]),
    message("c2", "2026-06-09", ["question"], ["cl_refund", "cl_bad"]),
    message("c3", "2026-06-10", [], ["cl_refund", "cl_gone"]),
    message("c3", "2026-06-16", ["frustrated"], ["cl_bad"]),
    message("c4", "2026-06-17"),  # unlabeled: activity only
]


def document(group_by: str, messages=MESSAGES) -> dict:
    return compute_label_overview(
        messages,
        workspace_id=W,
        medium_id=M,
        window=WINDOW,
        group_by=group_by,
        custom_labels=CUSTOM,
    )


def panel_rows(document: dict, labels: list[str]) -> list[dict]:
    return json.loads(panel_rows_json(document, labels))


def rendered(spec: dict) -> str:
    return vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)


def test_custom_labels_keep_their_colour_and_the_others_take_the_palette_in_rank_order():
    assert label_colors(document("day")) == {
        "cl_refund": "#ff8800",
        "question": PALETTE[0],
        "cl_bad": PALETTE[1],  # not a hex code: never copied into the page
        "cl_gone": PALETTE[2],
        "frustrated": PALETTE[3],
    }


def test_each_panel_draws_its_label_in_its_colour():
    week = document("week")
    colors = label_colors(week)
    svg = rendered(chart_spec(week, colors))
    lines = re.findall(r'aria-roledescription="line mark"[^>]*stroke="([^"]+)"', svg)
    assert lines == list(colors.values())
    assert svg.count('class="mark-group role-scope cell"') == 1
    assert svg.count(">partial week</text>") == len(colors) * 2


def test_partial_weeks_are_the_clipped_first_and_last():
    rows = panel_rows(document("week"), ["question"])
    assert [(row["bucket"], row["partial"], row["period"]) for row in rows] == [
        (
            "2026-06-01",
            True,
            "ISO week 23, from Mon 1 Jun 2026 (partial: 5 of 7 days in the window)",
        ),
        ("2026-06-08", False, "ISO week 24, from Mon 8 Jun 2026"),
        (
            "2026-06-15",
            True,
            "ISO week 25, from Mon 15 Jun 2026 (partial: 3 of 7 days in the window)",
        ),
    ]
    assert [(row["messages"], row["conversations"], row["userMessages"]) for row in rows] == [
        (2, 2, 2),
        (1, 1, 2),
        (0, 0, 2),
    ]
    assert not any(row["partial"] for row in panel_rows(document("day"), ["question"]))


def test_a_day_without_user_messages_has_no_rate():
    rows = panel_rows(document("day"), ["question"])
    assert [row["rate"] for row in rows if row["bucket"] in ("2026-06-03", "2026-06-05")] == [
        1.0,
        None,
    ]


def test_a_window_without_labels_shows_the_baseline_alone():
    day = document("day", [message("c9", "2026-06-05")])
    assert label_colors(day) == {}
    svg = rendered(chart_spec(day, {}))
    assert "No message carries a label in this window" in svg
    assert 'aria-roledescription="line mark"' not in svg
    assert len(re.findall(r'aria-roledescription="bar"', svg)) == 15


def report_page(messages=MESSAGES) -> bytes:
    """The channel's page, from its documents as the API writes them."""
    bodies = {(W, M, g): render_label_overview(document(g, messages)) for g in GROUP_BYS}
    [report] = channel_reports(WINDOW, bodies, javascript=b"/* the bundle */")
    return report.html


def test_no_label_name_can_end_the_pages_scripts():
    by_group = {g: document(g) for g in GROUP_BYS}
    html = report_page().decode()
    assert "</script><!--" not in html
    assert "background:red" not in html  # the table's swatch: the palette's colour instead
    assert f'style="background:{PALETTE[1]}"' in html
    for group_by in by_group:
        embedded = re.search(
            rf'<script type="application/json" id="overview-{group_by}">(.*?)</script>', html
        )
        assert json.loads(embedded[1]) == by_group[group_by]


# The fixed case's pages, as written when the specs and documents were dicts passed to
# json.dumps: writing the rows as text and the documents from their snapshots' bytes changed
# no byte (the first case's custom labels take json.dumps, the second's labels the bytes).
PAGE_SHA256 = {
    "labels": "9b1c835e960b2ffdf5108c442047694cbd7f62f6eb7ca0c483adcc508ad9005f",
    "no labels": "631a69c9f3b62b7d7e83449d8e7ad7580bc33c7b5c157228bd65027025c51b42",
}


def test_the_pages_bytes_are_kept():
    for case, messages in (("labels", MESSAGES), ("no labels", [message("c9", "2026-06-05")])):
        html = report_page(messages)
        assert hashlib.sha256(html).hexdigest() == PAGE_SHA256[case], case


def reference_rows(document: dict, labels: list[str]) -> list[dict]:
    """The chart's rows as dicts, as they were built before they were written as text."""
    titles = panel_titles(document, labels)
    group_by = document["groupBy"]
    rows = []
    for label in labels:
        for bucket, activity in document["activity"].items():
            days = week_days_in_window(document, bucket) if group_by == "week" else 1
            counts = document["buckets"][bucket].get(label, {})
            messages = activity["userMessages"]
            rows.append(
                {
                    "panel": titles[label],
                    "bucket": bucket,
                    "period": period_text(group_by, bucket, days),
                    "partial": group_by == "week" and days < 7,
                    "labelId": label,
                    "label": display_name(document, label),
                    "messages": counts.get("count", 0),
                    "conversations": counts.get("uniqueConversations", 0),
                    "userMessages": messages,
                    "activeConversations": activity["activeConversations"],
                    "rate": counts.get("count", 0) / messages if messages else None,
                }
            )
    return rows


HOSTILE = [
    "</script>",
    "<!--",
    "&amp;",
    '"',
    "\\",
    "\x00",
    "\x1f",
    "\x7f",
    "\u2028",
    "é",
    "😀",
    ":",
    ", ",
]
# Any text, and text the page can take from the snapshot's bytes with separators added.
TEXTS = {
    "any": st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=6)),
    "plain": st.from_regex(r"[a-z_ #.-]{1,8}", fullmatch=True),
}


@pytest.mark.parametrize("kind", TEXTS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_json_written_as_text_is_json_dumps_bytes(kind, data):
    """The chart's rows and the embedded documents, written as text, are json.dumps' bytes
    (``script_json``) for any label and custom label name."""
    texts = TEXTS[kind]
    labels = data.draw(st.lists(st.lists(texts, max_size=3), min_size=1, max_size=6))
    custom, name = data.draw(st.lists(texts, max_size=3)), data.draw(texts)
    days = ["2026-06-03", "2026-06-07", "2026-06-08", "2026-06-17"]
    messages = [
        message(f"c{i % 3}", days[i % len(days)], built_in, custom[: i % 3])
        for i, built_in in enumerate(labels)
    ]
    custom_labels = {label: {"name": name, "color": "#123456"} for label in custom[::2]}
    for group_by in GROUP_BYS:
        overview = compute_label_overview(
            messages,
            workspace_id=W,
            medium_id=M,
            window=WINDOW,
            group_by=group_by,
            custom_labels=custom_labels,
        )
        body = render_label_overview(overview)
        assert overview_json(overview, body) == script_json(overview)
        top = top_labels(overview) or [""]
        assert panel_rows_json(overview, top) == script_json(reference_rows(overview, top))
        spec = chart_spec_json(overview, label_colors(overview))
        assert spec == script_json(json.loads(spec))
        assert "</" not in spec and "<!--" not in spec


def test_every_spec_is_valid_vega_lite():
    # chart_spec writes Vega-Lite without altair, so nothing else checks it against the schema.
    schema = altair.load_schema()
    for group_by in ("day", "week"):
        labeled = document(group_by)
        jsonschema.validate(chart_spec(labeled, label_colors(labeled)), schema)
    jsonschema.validate(chart_spec(document("day", [message("c9", "2026-06-05")]), {}), schema)


def test_the_charting_javascript_is_bundled_once_per_release(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "label-overview"
    bundle = javascript_bundle(cache_dir())
    kept = cache_dir() / f"vega-bundle-{vl_convert.__version__}-vl{VEGA_LITE_VERSION}.js"
    assert list(cache_dir().iterdir()) == [kept]
    assert kept.read_text() == bundle and "vegaEmbed" in bundle
    kept.write_text("/* kept */")
    assert javascript_bundle(cache_dir()) == "/* kept */"
    # A cache that cannot be a folder (here a file stands in its way) only costs the bundling.
    (tmp_path / "a file").write_text("")
    assert javascript_bundle(tmp_path / "a file" / "cache") == bundle
