"""The label trend report's charts: one Vega-Lite spec per grouping, built with altair.

A spec is drawn from one label-overview document and holds that document's numbers as its
data. Each top label gets a small panel: the share of the channel's user messages that carry
the label (a line, left axis) over the activity baseline (bars of all user messages, right
axis). The first and last ISO weeks of a window are usually clipped, so their bars are drawn
light and dashed, their points hollow, and the panel and the tooltip say "partial": a
three-day week's short bar is not a collapse.

The same spec becomes the PNG (vl-convert, offline) and the page's interactive chart
(vega-embed, from the JavaScript bundle vl-convert ships, inlined in the page).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from label_overview.files import write_atomic

TOP_LABELS = 6
# Built-in labels take these in rank order; custom labels keep the colour set in Dynamo.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
OTHER_COLOR, BASELINE_COLOR = "#7f7f7f", "#b8b8b8"
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
# altair 5.5 writes Vega-Lite 5.20 specs, which Vega-Lite 6 draws the same; vl-convert 1.9
# bundles Vega 6, and 5.20's output for Vega 5 makes vega-embed warn in the console.
VEGA_LITE_VERSION = "6.4"
PANEL_WIDTH, PANEL_HEIGHT, PANEL_COLUMNS = 340, 130, 2
NO_LABEL = ""  # the one panel of a window where no message carries a label: baseline only
PARTIAL_NOTE = "partial week"
AXIS_TITLES = {
    "day": "UTC day",
    "week": "ISO week (from its Monday, UTC)",
    "rate": "% of user messages",
    "baseline": "user messages (all)",
}


def top_labels(document: dict[str, Any]) -> list[str]:
    """The labels with the most messages in the window, ties by label id."""
    totals = document["totals"]
    return sorted(totals, key=lambda label: (-totals[label]["count"], label))[:TOP_LABELS]


def label_colors(document: dict[str, Any]) -> dict[str, str]:
    """Each top label's colour: custom labels their own, the others the palette in rank order.

    A custom colour that is not a hex code takes the palette too: the colour is workspace data
    and goes into the page's CSS, where anything else could be more than a colour.
    """
    colors, palette = {}, iter(PALETTE)
    for label in top_labels(document):
        custom = document["customLabels"].get(label, {}).get("color")
        fits = isinstance(custom, str) and HEX_COLOR.fullmatch(custom)
        colors[label] = custom if fits else next(palette, OTHER_COLOR)
    return colors


def display_name(document: dict[str, Any], label: str) -> str:
    return document["customLabels"].get(label, {}).get("name", label)


def window_days(document: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """The first and last UTC day of the document's window."""
    return dt.date.fromisoformat(document["from"][:10]), dt.date.fromisoformat(document["to"][:10])


def week_days_in_window(document: dict[str, Any], monday: str) -> int:
    """How many days of the ISO week starting on ``monday`` lie inside the window (1 to 7)."""
    first, last = window_days(document)
    start = dt.date.fromisoformat(monday)
    return (min(start + dt.timedelta(days=6), last) - max(start, first)).days + 1


def panel_rows(document: dict[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    """One row per label and bucket: the document's numbers, nothing recomputed but the rate.
    A bucket without user messages has no rate (a gap in the line, not a zero)."""
    titles = panel_titles(document, labels)
    rows = []
    for label in labels:
        for bucket, activity in document["activity"].items():
            counts = document["buckets"][bucket].get(label, {})
            count = counts.get("count", 0)
            messages = activity["userMessages"]
            week = document["groupBy"] == "week"
            days = week_days_in_window(document, bucket) if week else 1
            rows.append(
                {
                    "panel": titles[label],
                    "bucket": bucket,
                    "period": period_text(document["groupBy"], bucket, days),
                    "partial": week and days < 7,
                    "labelId": label,
                    "label": display_name(document, label),
                    "messages": count,
                    "conversations": counts.get("uniqueConversations", 0),
                    "userMessages": messages,
                    "activeConversations": activity["activeConversations"],
                    "rate": count / messages if messages else None,
                }
            )
    return rows


def panel_titles(document: dict[str, Any], labels: list[str]) -> dict[str, str]:
    """A panel's title names its label and the window's totals; panels are keyed by title,
    so two labels that share a name are told apart by their ids."""
    names = [display_name(document, label) for label in labels]
    titles = {}
    for label, name in zip(labels, names, strict=True):
        if label == NO_LABEL:
            titles[label] = "No message carries a label in this window"
            continue
        totals = document["totals"][label]
        kind = " (custom label)" if label in document["customLabels"] else ""
        shown = f"{name} [{label}]" if names.count(name) > 1 else name
        titles[label] = (
            f"{shown}{kind}: {_counted(totals['count'], 'message')} in"
            f" {_counted(totals['uniqueConversations'], 'conversation')}"
        )
    return titles


def _counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def period_text(group_by: str, bucket: str, days: int) -> str:
    """How a tooltip names the bucket; a week says how much of it the window holds."""
    day = dt.date.fromisoformat(bucket)
    text = f"{day:%a} {day.day} {day:%b %Y}"
    if group_by == "day":
        return text
    week = f"ISO week {day.isocalendar().week}, from {text}"
    return week if days == 7 else f"{week} (partial: {days} of 7 days in the window)"


def chart_spec(document: dict[str, Any], colors: dict[str, str]) -> dict[str, Any]:
    """The Vega-Lite spec of a document: one panel per label of ``colors`` (or one panel of
    the baseline alone when no message carries a label), without ``$schema`` so the page
    names no URL."""
    # Imported here: altair takes ~0.4 s to import and only the report needs it.
    import altair as alt

    labels = list(colors) or [NO_LABEL]
    rows = panel_rows(document, labels)
    group_by = document["groupBy"]
    x = alt.X(
        "bucket:O",
        title=AXIS_TITLES[group_by],
        axis=alt.Axis(labelAngle=0, labelExpr=_date_labels(group_by)),
    )
    period = alt.Tooltip("period:N", title=group_by)
    color = alt.Color(
        "labelId:N",
        scale=alt.Scale(domain=labels, range=[colors.get(label, OTHER_COLOR) for label in labels]),
        legend=None,
    )
    layers = [_baseline(alt, x, period), _partial_note(alt, x)]
    if colors:
        layers.append(_rate(alt, x, period, color))
    panel = (
        alt.layer(*layers)
        .resolve_scale(y="independent")
        .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    )
    chart = (
        panel.facet(
            facet=alt.Facet(
                "panel:N",
                sort=list(dict.fromkeys(row["panel"] for row in rows)),
                title=None,
                header=alt.Header(labelAnchor="start", labelFontSize=12, labelFontWeight="bold"),
            ),
            columns=PANEL_COLUMNS,
            data=alt.NamedData(name="panels"),
        )
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
        .properties(title=_title(document))
        .configure_view(stroke=None)
    )
    # Every spec has the same structure, so validating each against Vega-Lite's schema (0.15 s
    # a chart) would only repeat tests/unit/test_report_charts.py. The rows join the spec
    # afterwards: altair would copy them at every step of building the chart.
    spec = chart.to_dict(validate=False)
    del spec["$schema"]
    spec["datasets"] = {"panels": rows}
    return spec


def _baseline(alt, x, period):
    """All user messages per bucket: grey bars on the right axis, light and dashed when the
    bucket is a partial week."""
    partial = alt.datum.partial
    return (
        alt.Chart()
        .mark_bar(color=BASELINE_COLOR)
        .encode(
            x=x,
            y=alt.Y(
                "userMessages:Q",
                title=AXIS_TITLES["baseline"],
                # Vega may still tick at halves over a domain of a few messages: unlabelled.
                axis=alt.Axis(
                    orient="right",
                    titleColor="#888",
                    grid=False,
                    tickMinStep=1,
                    labelExpr="datum.value % 1 ? '' : format(datum.value, ',d')",
                ),
            ),
            opacity=alt.condition(partial, alt.value(0.35), alt.value(0.8)),
            stroke=alt.condition(partial, alt.value("#777"), alt.value(None)),
            strokeDash=alt.condition(partial, alt.value([3, 2]), alt.value([])),
            tooltip=[
                period,
                alt.Tooltip("userMessages:Q", title="user messages", format=",d"),
                alt.Tooltip("activeConversations:Q", title="active conversations", format=",d"),
            ],
        )
    )


def _partial_note(alt, x):
    return (
        alt.Chart()
        .transform_filter(alt.datum.partial)
        .mark_text(baseline="bottom", dy=-3, fontSize=9, color="#555")
        .encode(x=x, y=alt.value(PANEL_HEIGHT), text=alt.value(PARTIAL_NOTE))
    )


def _rate(alt, x, period, color):
    """The label's share of user messages: a line on the left axis, its points carrying the
    tooltip; a partial week's point is hollow."""
    rate = alt.Y("rate:Q", title=AXIS_TITLES["rate"], axis=alt.Axis(format="%", orient="left"))
    line = alt.Chart().mark_line(strokeWidth=2, strokeJoin="round").encode(x=x, y=rate, color=color)
    points = (
        alt.Chart()
        .mark_point(size=36, filled=True, opacity=1, strokeWidth=1.5)
        .encode(
            x=x,
            y=rate,
            stroke=color,
            fill=alt.condition(alt.datum.partial, alt.value("white"), color),
            tooltip=[
                period,
                alt.Tooltip("label:N", title="label"),
                alt.Tooltip("messages:Q", title="messages", format=",d"),
                alt.Tooltip("conversations:Q", title="conversations", format=",d"),
                alt.Tooltip("rate:Q", title="rate", format=".1%"),
                alt.Tooltip("userMessages:Q", title="user messages", format=",d"),
            ],
        )
    )
    return alt.layer(line, points)


def _title(document: dict[str, Any]) -> dict[str, Any]:
    group_by = document["groupBy"]
    notes = ["grey bars: all user messages (right axis)"]
    if group_by == "week":
        notes.append("light dashed bars, hollow points: partial ISO weeks")
    return {
        "text": f"Share of user messages per label, by {group_by}",
        "subtitle": [
            f"{document['mediumId']} · {document['from'][:10]} to {document['to'][:10]} (UTC)",
            " · ".join(notes),
        ],
        "anchor": "start",
    }


def _date_labels(group_by: str) -> str:
    """Axis labels from the bucket keys, in UTC whatever the reader's time zone; a day axis
    names only Mondays, or 31 labels would overlap in a small panel."""
    label = "utcFormat(toDate(datum.value), '%-d %b')"
    return label if group_by == "week" else f"utcday(toDate(datum.value)) == 1 ? {label} : ''"


def png(spec: dict[str, Any]) -> bytes:
    """The chart as a PNG, rendered offline (fonts included in vl-convert)."""
    import vl_convert

    # 1.5 times the page's size: sharp on a slide, under a megabyte for a month of days.
    return vl_convert.vegalite_to_png(spec, vl_version=VEGA_LITE_VERSION, scale=1.5)


def cache_dir() -> Path:
    """Where the bundle is kept: the user's cache folder ($XDG_CACHE_HOME, else ~/.cache).

    The bundle depends on the installed vl-convert, not on any data, so every data root of a
    host shares one (a data root of its own would bundle again for every new one).
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "label-overview"


def javascript_bundle(cache: Path) -> str:
    """Vega, Vega-Lite and vega-embed in one script, for a page that loads nothing.

    Bundling takes seconds and gives the same bytes for a vl-convert release, so the bundle is
    kept in ``cache`` under a name holding both versions, and a new release makes a new one.
    A cache that cannot be written only costs the next page the same seconds.
    """
    import vl_convert

    path = cache / f"vega-bundle-{vl_convert.__version__}-vl{VEGA_LITE_VERSION}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:  # not there yet, or a cache folder that cannot be used
        bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
        with contextlib.suppress(OSError):
            write_atomic(path, bundle.encode())
        return bundle
