"""The label trend report: one self-contained HTML page per channel, and PNG charts on request.

Charts are drawn from the same documents as the snapshots (``label_overview_bodies``), so
their numbers are the snapshot's: for each top label, its share of user messages per day and
per ISO week over the activity baseline, custom labels in their own colours, partial weeks
marked (``report_charts``). The page embeds its documents and the charts' Vega-Lite specs as
JSON, with Vega, Vega-Lite and vega-embed inlined: it opens from a file, offline, and loads
nothing. The PNGs are the same specs rendered by vl-convert, for mail and slides; only
``label-overview report`` renders them: at 0.5 s a chart they would cost a run's publish
more than its snapshots (README, "The label trend report").
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from label_overview import report_charts
from label_overview.documents import label_overview_bodies, parsed_documents, warehouse_pairs
from label_overview.files import cache_dir, safe_id, write_atomic
from label_overview.report_charts import display_name, label_colors, script_json, top_labels
from label_overview.windows import GROUP_BYS, Window

# Nothing may leave the page: Vega compiles its expressions with Function (hence
# 'unsafe-eval'), every script and style is inline, and no request of any kind is allowed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:"
)
EMBED_CHARTS = """
const charts = Array.from(document.querySelectorAll("section.group"), (section) => {
  const groupBy = section.dataset.groupBy;
  const spec = JSON.parse(document.getElementById(`spec-${groupBy}`).textContent);
  const options = {mode: "vega-lite", renderer: "svg", actions: false};
  return vegaEmbed(section.querySelector(".chart"), spec, options);
});
// Readers of the page (the browser test) wait for this mark; a chart that fails says why.
Promise.all(charts).then(
  () => { document.body.dataset.rendered = "true"; },
  (error) => { console.error(error); },
);
"""


@dataclass(frozen=True)
class ChannelReport:
    channel_id: str
    html: bytes  # the page, UTF-8
    pngs: dict[str, bytes]


def build_reports(
    connection: duckdb.DuckDBPyConnection,
    workspace_id: str,
    window: Window,
    channel_ids: Iterable[str] | None = None,
    *,
    pngs: bool = False,
) -> list[ChannelReport]:
    """The report of every channel of a workspace (or of ``channel_ids``) for a window of at
    most 31 days; ``pngs`` asks for the charts as PNG too."""
    pairs = warehouse_pairs(connection, [workspace_id])
    if channel_ids is not None:
        pairs = [pair for pair in pairs if pair[1] in set(channel_ids)]
    return channel_reports(window, label_overview_bodies(connection, pairs, window), pngs=pngs)


def channel_reports(
    window: Window,
    bodies: Mapping[tuple[str, str, str], bytes],
    *,
    pngs: bool = False,
    javascript: bytes | None = None,
) -> list[ChannelReport]:
    """The report of each channel of one workspace's documents (``label_overview_bodies``: a
    publish passes the documents its snapshots were written from, so both come from one
    query), in channel order; ``pngs`` asks for the charts as PNG too. ``javascript`` is the
    charting bundle as UTF-8 (``report_charts.javascript_bundle``), for a caller that writes
    many workspaces' pages to read it once; without it, it is read here."""
    if javascript is None:
        javascript = report_charts.javascript_bundle(cache_dir()).encode()
    documents = parsed_documents(bodies)
    reports = []
    for workspace_id, channel_id in sorted({(w, m) for w, m, _ in documents}):
        keys = {g: (workspace_id, channel_id, g) for g in GROUP_BYS}
        by_group = {g: documents[keys[g]] for g in GROUP_BYS}
        overviews = {g: overview_json(by_group[g], bodies[keys[g]]) for g in GROUP_BYS}
        colors = label_colors(by_group["day"])
        specs = {g: report_charts.chart_spec_json(by_group[g], colors) for g in GROUP_BYS}
        reports.append(
            ChannelReport(
                channel_id,
                page(
                    workspace_id,
                    channel_id,
                    window,
                    by_group["day"],
                    overviews,
                    specs,
                    colors,
                    javascript,
                ),
                {g: report_charts.png(json.loads(specs[g])) for g in GROUP_BYS} if pngs else {},
            )
        )
    return reports


def write_reports(
    snapshots_dir: Path, workspace_id: str, reports: list[ChannelReport]
) -> list[Path]:
    """Write each channel's page and charts under exports/<workspace>/<channel>/report/; a
    page written without charts removes the PNGs of an older page, which would disagree."""
    written = []
    for report in reports:
        folder = snapshots_dir / safe_id(workspace_id, what="workspace id")
        folder = folder / safe_id(report.channel_id, what="channel id") / "report"
        write_atomic(folder / "label-trends.html", report.html)
        written.append(folder / "label-trends.html")
        for group_by in GROUP_BYS:
            path = folder / f"label-trends-{group_by}.png"
            if group_by in report.pngs:
                write_atomic(path, report.pngs[group_by])
                written.append(path)
            else:
                path.unlink(missing_ok=True)
    return written


# Printable ASCII but what either spelling of a JSON string may write otherwise (quotes and
# backslashes escaped, ``<``, ``>`` and ``&`` escaped for the page) and the separators.
_PLAIN_TEXT = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x20, 0x7F) if chr(c) not in '"\\,:<>&') + "]*"
)
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def overview_json(document: dict[str, Any], body: bytes) -> str:
    """A document as the page embeds it: ``script_json(document)``, from its snapshot's bytes
    (``body``, which ``document`` was parsed from) where that is a matter of separators.

    The snapshot is compact (``,`` and ``:``), the page's JSON ``json.dumps``' (``, `` and
    ``: ``). When no string of the document holds a separator, a character either spelling
    escapes, or one beyond ASCII (ids, labels, custom labels' names and colours: the usual
    case), putting the spaces in is all it takes, but for the window's two instants, whose
    colons are put back; a document with any other string is encoded again. ``json.dumps``
    of every document cost a batch of 1,000 documents ~0.15 s.
    """
    instants = (document["from"], document["to"])
    if not (_plain_texts(document) and all(map(_INSTANT.fullmatch, instants))):
        return script_json(document)
    text = body.decode().replace(",", ", ").replace(":", ": ")
    for instant in instants:
        text = text.replace(f'"{instant.replace(":", ": ")}"', f'"{instant}"')
    return text


def _plain_texts(document: dict[str, Any]) -> bool:
    """Whether every string of the document but its instants is ``_PLAIN_TEXT``: its ids,
    group-by, bucket keys, labels, and custom labels' fields (null aside)."""
    labels = set(document["totals"]).union(*document["buckets"].values())
    custom = [
        text
        for meta in document["customLabels"].values()
        for text in meta.values()
        if text is not None
    ]
    texts = (
        document["workspaceId"],
        document["mediumId"],
        document["groupBy"],
        *document["buckets"],
        *document["activity"],
        *labels,
        *document["customLabels"],
        *custom,
    )
    return all(isinstance(text, str) and _PLAIN_TEXT.fullmatch(text) for text in texts)


def page(
    workspace_id: str,
    channel_id: str,
    window: Window,
    day: dict[str, Any],
    overviews: dict[str, str],
    specs: dict[str, str],
    colors: dict[str, str],
    javascript: bytes,
) -> bytes:
    """The whole page as UTF-8: top labels, the charts, and the documents they were drawn from.

    ``day``: the channel's document by day, for the table; ``overviews`` and ``specs``: each
    grouping's document (``overview_json``) and chart (``report_charts.chart_spec_json``) as
    the page's JSON text. ``javascript`` comes encoded: the bundle holds a few characters
    beyond ASCII, so a page built as text would be two bytes a character, copied and encoded
    again (~1.5 ms a page).
    """
    rows = "".join(
        f'<tr data-label="{html.escape(label)}"><td><span class="swatch" style="background:'
        f'{html.escape(colors[label])}"></span>{html.escape(display_name(day, label))}</td>'
        f'<td class="count">{day["totals"][label]["count"]}</td>'
        f'<td class="conversations">{day["totals"][label]["uniqueConversations"]}</td></tr>'
        for label in top_labels(day)
    )
    sections = "".join(
        f'<section class="group" data-group-by="{g}"><h2>By {g}</h2><div class="chart"></div>'
        "<noscript>The charts need JavaScript; `label-overview report` also renders them as"
        f" PNG (label-trends-{g}.png).</noscript>"
        f'<script type="application/json" id="overview-{g}">{overviews[g]}</script>'
        f'<script type="application/json" id="spec-{g}">{specs[g]}</script>'
        "</section>"
        for g in GROUP_BYS
    )
    title = f"Label trends · {workspace_id} · {channel_id} · {window}"
    head = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<title>{html.escape(title)}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
.swatch {{ display: inline-block; width: .8em; height: .8em; margin-right: .4em; }}
td, th {{ padding: .2em 1em .2em 0; text-align: left; }}
td.count, td.conversations {{ text-align: right; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Activity: {day["activityTotals"]["userMessages"]} user messages in
{day["activityTotals"]["activeConversations"]} conversations (UTC days). Each panel is one of
the top labels: its line is the share of user messages carrying the label, its grey bars all
user messages. The first and last ISO weeks hold only the days inside the window: they are
marked "partial week". Hover a point or a bar for its numbers.</p>
<h2>Top labels</h2>
<table><tr><th>label</th><th>messages</th><th>conversations</th></tr>{rows}</table>
{sections}
<script>"""
    return b"".join((head.encode(), javascript, _PAGE_TAIL))


_PAGE_TAIL = f"""</script>
<script>{EMBED_CHARTS}</script>
</body></html>
""".encode()
