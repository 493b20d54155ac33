"""The label-overview JSON Schema from the API contract (a copy of the spec's, checked equal by
the tests when the spec is beside the repo), and validation against it."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

SCHEMA_NAME = "label-overview.schema.json"


@cache
def label_overview_schema() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath(SCHEMA_NAME).read_text())


def validate_label_overview(document: Any) -> None:
    """Raise jsonschema.ValidationError unless ``document`` is a valid label overview."""
    import jsonschema

    jsonschema.validate(document, label_overview_schema())
