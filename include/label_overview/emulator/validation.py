"""Joi-style validation of query strings: every invalid field reported, in parameter order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from label_overview.dataset import CONTENT_TYPES
from label_overview.windows import GROUP_BYS

MAX_PAGE = 500


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "string", "date", "choice", "int"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


WINDOW = (
    Field("workspaceId", "string", required=True),
    Field("mediumId", "string", required=True),
    Field("from", "date", required=True),
    Field("to", "date", required=True),
)
FILTERS = (Field("label", "string"), Field("contentType", "choice", choices=CONTENT_TYPES))
ENDPOINT_FIELDS = {
    "channels": (Field("workspaceId", "string"),),
    "vip-messages": (
        *WINDOW,
        *FILTERS,
        Field("limit", "int", minimum=1, maximum=MAX_PAGE),
        Field("before", "int", minimum=0),
    ),
    "vip-messages/export": (*WINDOW, *FILTERS),
    "label-overview": (*WINDOW, Field("groupBy", "choice", choices=GROUP_BYS)),
}


def _entry(field: str, message: str, kind: str, **context: Any) -> dict[str, Any]:
    return {
        "message": f'"{field}" {message}',
        "path": [field],
        "type": kind,
        "context": {"label": field, "key": field, **context},
    }


def validate(endpoint: str, query: Mapping[str, str]) -> tuple[dict[str, Any], list[dict]]:
    """Parse ``query`` for ``endpoint``: (values, []) when valid, else ({}, 422 entries)."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in ENDPOINT_FIELDS[endpoint]:
        raw = query.get(field.name)
        if raw is None or raw == "":
            if field.required:
                errors.append(_entry(field.name, "is required", "any.required"))
            continue
        value, error = _parse(field, raw)
        if error:
            errors.append(error)
        else:
            values[field.name] = value
    return (values, []) if not errors else ({}, errors)


def _parse(field: Field, raw: str) -> tuple[Any, dict[str, Any] | None]:
    name = field.name
    if field.kind == "date":
        try:
            if len(raw) != 10:
                raise ValueError
            return dt.date.fromisoformat(raw), None
        except ValueError:
            return None, _entry(name, "must be in ISO 8601 date format", "date.format", value=raw)
    if field.kind == "choice":
        if raw not in field.choices:
            valids = list(field.choices)
            message = f"must be one of [{', '.join(valids)}]"
            return None, _entry(name, message, "any.only", value=raw, valids=valids)
        return raw, None
    if field.kind == "int":
        try:
            number = float(raw)
        except ValueError:
            return None, _entry(name, "must be a number", "number.base", value=raw)
        if not number.is_integer():
            return None, _entry(name, "must be an integer", "number.integer", value=raw)
        if field.minimum is not None and number < field.minimum:
            message = f"must be greater than or equal to {field.minimum}"
            return None, _entry(name, message, "number.min", limit=field.minimum, value=raw)
        if field.maximum is not None and number > field.maximum:
            message = f"must be less than or equal to {field.maximum}"
            return None, _entry(name, message, "number.max", limit=field.maximum, value=raw)
        return int(number), None
    return raw, None
