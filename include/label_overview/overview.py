"""The label-overview document's exact bytes, as the API renders them.

Publishing writes the same bytes from warehouse aggregates in DuckDB
(``documents.label_overview_bodies``); the emulator renders its reference documents here too, so a
snapshot is byte-for-byte the API's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson


def render_label_overview(document: Mapping[str, Any]) -> bytes:
    """The document's exact bytes: compact UTF-8 JSON in the document's own key order.

    orjson writes the same bytes as ``json.dumps(ensure_ascii=False, separators=(",", ":"))``
    (checked for every code point), several times faster.
    """
    return orjson.dumps(document)
