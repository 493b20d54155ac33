"""The label trend report's charts: one Vega-Lite spec per grouping.

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
import functools
import json
import re
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from label_overview.files import write_atomic

TOP_LABELS = 6
# Built-in labels take these in rank order; custom labels keep the colour set in Dynamo.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
OTHER_COLOR, BASELINE_COLOR = "#7f7f7f", "#b8b8b8"
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
# The specs need nothing past Vega-Lite 5.20 (altair 5.5's schema, which the tests validate
# them against) and Vega-Lite 6 draws them the same; vl-convert 1.9 bundles Vega 6, and 5.20's
# output for Vega 5 makes vega-embed warn in the console.
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


def panel_rows_json(document: dict[str, Any], labels: list[str]) -> str:
    """One row per label and bucket, as the page's JSON text (``script_json``'s spelling of a
    list of objects): the document's numbers, nothing recomputed but the rate. A bucket
    without user messages has no rate (a gap in the line, not a zero).

    Written as text rather than dicts passed to ``json.dumps``: a month of days makes ~200
    rows a page, the bulk of its JSON, and building then encoding them as dicts cost a batch
    of 500 pages ~0.5 s.
    """
    titles = panel_titles(document, labels)
    group_by = document["groupBy"]
    week = group_by == "week"
    buckets = []
    for bucket, activity in document["activity"].items():
        days = week_days_in_window(document, bucket) if week else 1
        messages = activity["userMessages"]
        buckets.append(
            (
                _bucket_fields(group_by, bucket, days),
                document["buckets"][bucket],
                messages,
                f'"userMessages": {messages}, "activeConversations": '
                f"{activity['activeConversations']}",
            )
        )
    rows = []
    for label in labels:
        panel = _script_text(titles[label])
        name = _script_text(display_name(document, label))
        names = f'"labelId": {_script_text(label)}, "label": {name}'
        for fields, by_label, messages, activity in buckets:
            counts = by_label.get(label, _NO_COUNTS)
            count = counts.get("count", 0)
            rows.append(
                f'{{"panel": {panel}, {fields}, {names}, "messages": {count},'
                f' "conversations": {counts.get("uniqueConversations", 0)}, {activity},'
                f' "rate": {repr(count / messages) if messages else "null"}}}'
            )
    return f"[{', '.join(rows)}]"


_NO_COUNTS: dict[str, int] = {}


# Every page of a publish names the same buckets: each one's fields are written once.
@functools.cache
def _bucket_fields(group_by: str, bucket: str, days: int) -> str:
    """A row's bucket, its wording and whether it is a partial week, as JSON members."""
    partial = "true" if group_by == "week" and days < 7 else "false"
    period = _script_text(period_text(group_by, bucket, days))
    return f'"bucket": {_script_text(bucket)}, "period": {period}, "partial": {partial}'


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
    """The Vega-Lite spec of a document (``chart_spec_json``, read back), for vl-convert."""
    return json.loads(chart_spec_json(document, colors))


def chart_spec_json(document: dict[str, Any], colors: dict[str, str]) -> str:
    """The Vega-Lite spec of a document as the page's JSON text (``script_json``'s spelling):
    one panel per label of ``colors`` (or one panel of the baseline alone when no message
    carries a label), without ``$schema`` so the page names no URL."""
    # Written as Vega-Lite itself rather than through altair: altair deep-copies the chart at
    # every layer, facet and resolve (~0.3 s a chart, against the few milliseconds of its
    # rows), and importing it costs ~0.7 s a process. tests/unit/test_report_charts.py
    # validates these specs against Vega-Lite's schema.
    labels = list(colors) or [NO_LABEL]
    titles = panel_titles(document, labels)
    group_by = document["groupBy"]
    x = {
        "axis": {"labelAngle": 0, "labelExpr": _date_labels(group_by)},
        "field": "bucket",
        "title": AXIS_TITLES[group_by],
        "type": "ordinal",
    }
    period = {"field": "period", "title": group_by, "type": "nominal"}
    layers = [_baseline(x, period), _partial_note(x)]
    if colors:
        color = {
            "field": "labelId",
            "legend": None,
            "scale": {"domain": labels, "range": [colors[label] for label in labels]},
            "type": "nominal",
        }
        layers.append(_rate(x, period, color))
    spec = {
        "config": {"view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None}},
        "data": {"name": "panels"},
        "facet": {
            "field": "panel",
            "header": {"labelAnchor": "start", "labelFontSize": 12, "labelFontWeight": "bold"},
            "sort": list(dict.fromkeys(titles[label] for label in labels)),
            "title": None,
            "type": "nominal",
        },
        "spec": {
            "layer": layers,
            "height": PANEL_HEIGHT,
            "resolve": {"scale": {"y": "independent"}},
            "width": PANEL_WIDTH,
        },
        "columns": PANEL_COLUMNS,
        "resolve": {"axis": {"x": "independent"}, "scale": {"y": "independent"}},
        "title": _title(document),
    }
    # The rows, the spec's last member and most of its bytes, come as text: spliced in.
    rows = panel_rows_json(document, labels)
    return f'{script_json(spec)[:-1]}, "datasets": {{"panels": {rows}}}}}'


def script_json(value: Any) -> str:
    """JSON that cannot end or change the <script> element holding it: ``json.dumps``'s text
    (the pages' bytes) with ``<``, ``>`` and ``&`` escaped, which JSON holds only in strings."""
    return _script_safe(json.dumps(value))


def _script_text(text: str) -> str:
    """``script_json`` of a string, straight from the encoder ``json.dumps`` calls for one
    (its wrappers cost more than the encoding, for the ~20 strings of each chart)."""
    return _script_safe(encode_basestring_ascii(text))


def _script_safe(encoded: str) -> str:
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _when_partial(then: Any, otherwise: Any) -> dict[str, Any]:
    return {"condition": {"test": "datum.partial", "value": then}, "value": otherwise}


def _baseline(x: dict[str, Any], period: dict[str, Any]) -> dict[str, Any]:
    """All user messages per bucket: grey bars on the right axis, light and dashed when the
    bucket is a partial week."""
    return {
        "mark": {"type": "bar", "color": BASELINE_COLOR},
        "encoding": {
            "opacity": _when_partial(0.35, 0.8),
            "stroke": _when_partial("#777", None),
            "strokeDash": _when_partial([3, 2], []),
            "tooltip": [
                period,
                _quantity("userMessages", "user messages", ",d"),
                _quantity("activeConversations", "active conversations", ",d"),
            ],
            "x": x,
            "y": {
                # Vega may still tick at halves over a domain of a few messages: unlabelled.
                "axis": {
                    "grid": False,
                    "labelExpr": "datum.value % 1 ? '' : format(datum.value, ',d')",
                    "orient": "right",
                    "tickMinStep": 1,
                    "titleColor": "#888",
                },
                "field": "userMessages",
                "title": AXIS_TITLES["baseline"],
                "type": "quantitative",
            },
        },
    }


def _partial_note(x: dict[str, Any]) -> dict[str, Any]:
    return {
        "mark": {"type": "text", "baseline": "bottom", "color": "#555", "dy": -3, "fontSize": 9},
        "encoding": {"text": {"value": PARTIAL_NOTE}, "x": x, "y": {"value": PANEL_HEIGHT}},
        "transform": [{"filter": "datum.partial"}],
    }


def _rate(x: dict[str, Any], period: dict[str, Any], color: dict[str, Any]) -> dict[str, Any]:
    """The label's share of user messages: a line on the left axis, its points carrying the
    tooltip; a partial week's point is hollow."""
    rate = {
        "axis": {"format": "%", "orient": "left"},
        "field": "rate",
        "title": AXIS_TITLES["rate"],
        "type": "quantitative",
    }
    line = {
        "mark": {"type": "line", "strokeJoin": "round", "strokeWidth": 2},
        "encoding": {"color": color, "x": x, "y": rate},
    }
    points = {
        "mark": {"type": "point", "filled": True, "opacity": 1, "size": 36, "strokeWidth": 1.5},
        "encoding": {
            "fill": {"condition": {"test": "datum.partial", "value": "white"}, **color},
            "stroke": color,
            "tooltip": [
                period,
                {"field": "label", "title": "label", "type": "nominal"},
                _quantity("messages", "messages", ",d"),
                _quantity("conversations", "conversations", ",d"),
                _quantity("rate", "rate", ".1%"),
                _quantity("userMessages", "user messages", ",d"),
            ],
            "x": x,
            "y": rate,
        },
    }
    return {"layer": [line, points]}


def _quantity(field: str, title: str, number_format: str) -> dict[str, Any]:
    return {"field": field, "format": number_format, "title": title, "type": "quantitative"}


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
