"""The label trend report: one self-contained HTML page (and PNG charts) per channel.

Charts are drawn from the same documents as the snapshots (``label_overview_documents``), so
their numbers are the snapshot's: label rates (count / userMessages) per bucket against the
activity baseline, by day and by week, the top labels, and custom labels in their own colours.
The page embeds its documents as JSON and tags every bar and point with its numbers, which is
what the browser test reads back.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from label_overview.documents import label_overview_documents, warehouse_pairs
from label_overview.files import safe_id, write_atomic
from label_overview.windows import GROUP_BYS, Window

TOP_LABELS = 6
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WIDTH, HEIGHT, PAD = 720, 260, 40


@dataclass(frozen=True)
class ChannelReport:
    channel_id: str
    html: str
    pngs: dict[str, bytes]


def build_reports(
    connection: duckdb.DuckDBPyConnection,
    workspace_id: str,
    window: Window,
    channel_ids: Iterable[str] | None = None,
) -> list[ChannelReport]:
    """The report of every channel of a workspace (or of ``channel_ids``) for a window of at
    most 31 days."""
    pairs = warehouse_pairs(connection, [workspace_id])
    if channel_ids is not None:
        pairs = [pair for pair in pairs if pair[1] in set(channel_ids)]
    documents = label_overview_documents(connection, pairs, window)
    reports = []
    for _, channel_id in pairs:
        by_group = {g: documents[workspace_id, channel_id, g] for g in GROUP_BYS}
        colors = label_colors(by_group["day"])
        reports.append(
            ChannelReport(
                channel_id,
                page(workspace_id, channel_id, window, by_group, colors),
                {g: png_chart(by_group[g], colors) for g in GROUP_BYS},
            )
        )
    return reports


def write_reports(
    snapshots_dir: Path, workspace_id: str, reports: list[ChannelReport]
) -> list[Path]:
    """Write each channel's page and charts under exports/<workspace>/<channel>/report/."""
    written = []
    for report in reports:
        folder = snapshots_dir / safe_id(workspace_id, what="workspace id")
        folder = folder / safe_id(report.channel_id, what="channel id") / "report"
        write_atomic(folder / "label-trends.html", report.html.encode())
        written.append(folder / "label-trends.html")
        for group_by, png in report.pngs.items():
            write_atomic(folder / f"label-trends-{group_by}.png", png)
            written.append(folder / f"label-trends-{group_by}.png")
    return written


def top_labels(document: dict[str, Any]) -> list[str]:
    totals = document["totals"]
    return sorted(totals, key=lambda label: (-totals[label]["count"], label))[:TOP_LABELS]


def label_colors(document: dict[str, Any]) -> dict[str, str]:
    """Custom labels keep their own colour; the others take the palette in rank order."""
    colors, palette = {}, iter(PALETTE)
    for label in top_labels(document):
        custom = document["customLabels"].get(label, {}).get("color")
        colors[label] = custom or next(palette, "#7f7f7f")
    return colors


def display_name(document: dict[str, Any], label: str) -> str:
    return document["customLabels"].get(label, {}).get("name", label)


def rate(document: dict[str, Any], bucket: str, label: str) -> float:
    messages = document["activity"][bucket]["userMessages"]
    count = document["buckets"][bucket].get(label, {}).get("count", 0)
    return count / messages if messages else 0.0


def svg_chart(document: dict[str, Any], colors: dict[str, str]) -> str:
    """Activity bars (grey, right scale) and label-rate lines, every mark tagged with its data."""
    buckets = list(document["activity"])
    peak = max((a["userMessages"] for a in document["activity"].values()), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(buckets), 1)
    top_rate = max((rate(document, b, lb) for b in buckets for lb in colors), default=0) or 1
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart">']
    for index, bucket in enumerate(buckets):
        messages = document["activity"][bucket]["userMessages"]
        height = (HEIGHT - 2 * PAD) * messages / peak
        x, y = PAD + index * step, HEIGHT - PAD - height
        parts.append(
            f'<rect class="activity" x="{x:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}"'
            f' height="{height:.1f}" fill="#ddd" data-bucket="{bucket}"'
            f' data-user-messages="{messages}"><title>{bucket}: {messages} user messages'
            "</title></rect>"
        )
    for label, color in colors.items():
        points = []
        for index, bucket in enumerate(buckets):
            value = rate(document, bucket, label)
            x = PAD + index * step + step * 0.4
            y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top_rate
            count = document["buckets"][bucket].get(label, {}).get("count", 0)
            points.append((x, y))
            parts.append(
                f'<circle class="rate" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"'
                f' data-bucket="{bucket}" data-label="{html.escape(label)}" data-count="{count}"'
                f' data-rate="{value:.6f}"><title>{html.escape(display_name(document, label))}'
                f" {bucket}: {count} ({value:.1%})</title></circle>"
            )
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def png_chart(document: dict[str, Any], colors: dict[str, str]) -> bytes:
    """The same chart as a PNG, for mail and slides."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    buckets = list(document["activity"])
    # Buckets at positions 0..n-1 labelled with their keys: as categories, matplotlib would log
    # that the strings look like dates on every chart.
    positions = list(range(len(buckets)))
    figure, rates = pyplot.subplots(figsize=(8, 3), dpi=100)
    # Fixed margins that fit the rotated day keys: tight_layout measures every tick label
    # first, a third of the chart's cost.
    figure.subplots_adjust(left=0.09, right=0.89, top=0.9, bottom=0.25)
    baseline = rates.twinx()
    baseline.bar(
        positions, [document["activity"][b]["userMessages"] for b in buckets], color="#ddd"
    )
    baseline.set_ylabel("user messages")
    rates.set_zorder(baseline.get_zorder() + 1)
    rates.patch.set_visible(False)
    for label, color in colors.items():
        rates.plot(
            positions,
            [rate(document, b, label) for b in buckets],
            marker="o",
            color=color,
            label=display_name(document, label),
        )
    rates.set_ylabel("label rate")
    rates.set_title(f"{document['mediumId']} by {document['groupBy']}")
    rates.set_xticks(positions, buckets, rotation=60, fontsize=7)
    if colors:  # a channel without labels in the window has no line to name
        rates.legend(fontsize=7, loc="upper left")
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    pyplot.close(figure)
    return out.getvalue()


def embedded_json(document: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no "</" can close it early)."""
    return json.dumps(document).replace("</", "<\\/")


def page(
    workspace_id: str,
    channel_id: str,
    window: Window,
    by_group: dict[str, dict[str, Any]],
    colors: dict[str, str],
) -> str:
    """The whole page: charts, top labels, and the documents they were drawn from."""
    day = by_group["day"]
    rows = "".join(
        f'<tr data-label="{html.escape(label)}"><td><span class="swatch" style="background:'
        f'{colors.get(label, "#7f7f7f")}"></span>{html.escape(display_name(day, label))}</td>'
        f'<td class="count">{day["totals"][label]["count"]}</td>'
        f'<td class="conversations">{day["totals"][label]["uniqueConversations"]}</td></tr>'
        for label in top_labels(day)
    )
    sections = "".join(
        f'<section class="group" data-group-by="{g}"><h2>Label rate by {g}</h2>'
        f"{svg_chart(by_group[g], colors)}"
        f'<script type="application/json" id="overview-{g}">{embedded_json(by_group[g])}'
        "</script></section>"
        for g in GROUP_BYS
    )
    title = f"Label trends · {workspace_id} · {channel_id} · {window}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
.chart {{ width: 100%; max-width: {WIDTH}px; border: 1px solid #eee; }}
.swatch {{ display: inline-block; width: .8em; height: .8em; margin-right: .4em; }}
td {{ padding: .2em 1em .2em 0; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Activity: {day["activityTotals"]["userMessages"]} user messages in
{day["activityTotals"]["activeConversations"]} conversations. Grey bars: user messages per
bucket; lines: share of user messages carrying each top label.</p>
<h2>Top labels</h2>
<table><tr><th>label</th><th>messages</th><th>conversations</th></tr>{rows}</table>
{sections}
</body></html>
"""
