"""The JSON Schemas: the label-overview document's from the API contract (a copy of the spec's,
checked equal by the tests, which validate every document they see against it), and
``label-overview status --json``'s."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

SCHEMA_NAME = "label-overview.schema.json"


@cache
def label_overview_schema() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath(SCHEMA_NAME).read_text())


@cache
def label_overview_status_schema() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath("status.schema.json").read_text())
