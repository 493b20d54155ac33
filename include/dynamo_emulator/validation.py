"""Joi-style validation of query strings.

Every invalid field is reported (Joi's ``abortEarly: false``): declared parameters in their
declared order, then parameters the endpoint does not know (``object.unknown``, as Joi does by
default, so a misspelt ``groupby`` is an error rather than a silently ignored option).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dynamo_emulator.dataset import CONTENT_TYPES
from label_overview.windows import GROUP_BYS, WindowError, parse_day

MAX_PAGE = 500
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class Field:
    """One query parameter: ``kind`` is "string", "date", "choice" or "int"."""

    name: str
    kind: str
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
ENDPOINT_FIELDS: dict[str, tuple[Field, ...]] = {
    "organizations": (),
    "workspaces": (),
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


def error_entry(field: str, message: str, kind: str, **context: Any) -> dict[str, Any]:
    """One 422 entry: ``{"message", "path", "type", "context"}`` as Joi words it."""
    return {
        "message": f'"{field}" {message}',
        "path": [field],
        "type": kind,
        "context": {"label": field, "key": field, **context},
    }


def validate(endpoint: str, query: Mapping[str, str]) -> tuple[dict[str, Any], list[dict]]:
    """Parse ``query`` for ``endpoint``.

    Args:
        endpoint: a key of ``ENDPOINT_FIELDS``.
        query: the query parameters (the last value of a repeated one).

    Returns:
        ``(values, [])`` with dates as ``datetime.date`` and integers as ``int`` when the
        query is valid, else ``({}, entries)`` for the 422 body.
    """
    fields = ENDPOINT_FIELDS[endpoint]
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in fields:
        raw = query.get(field.name)
        if raw is None:
            if field.required:
                errors.append(error_entry(field.name, "is required", "any.required"))
            continue
        value, error = _parse(field, raw)
        if error:
            errors.append(error)
        else:
            values[field.name] = value
    known = {field.name for field in fields}
    for name in query:
        if name not in known:
            value = query[name]
            errors.append(
                error_entry(name, "is not allowed", "object.unknown", child=name, value=value)
            )
    return (values, []) if not errors else ({}, errors)


def _parse(field: Field, raw: str) -> tuple[Any, dict[str, Any] | None]:
    name = field.name
    if field.kind == "string":
        if raw == "":
            return None, error_entry(name, "is not allowed to be empty", "string.empty", value=raw)
        return raw, None
    if field.kind == "date":
        try:
            return parse_day(raw, name=name), None
        except WindowError:
            message = "must be in ISO 8601 date format"
            return None, error_entry(name, message, "date.format", value=raw)
    if field.kind == "choice":
        if raw not in field.choices:
            valids = list(field.choices)
            message = f"must be one of [{', '.join(valids)}]"
            return None, error_entry(name, message, "any.only", value=raw, valids=valids)
        return raw, None
    return _parse_int(field, raw)


def _parse_int(field: Field, raw: str) -> tuple[int | None, dict[str, Any] | None]:
    name = field.name
    if not _NUMBER.fullmatch(raw):
        return None, error_entry(name, "must be a number", "number.base", value=raw)
    number = Decimal(raw)
    if number != number.to_integral_value():
        return None, error_entry(name, "must be an integer", "number.integer", value=raw)
    value = int(number)
    if field.minimum is not None and value < field.minimum:
        message = f"must be greater than or equal to {field.minimum}"
        return None, error_entry(name, message, "number.min", limit=field.minimum, value=raw)
    if field.maximum is not None and value > field.maximum:
        message = f"must be less than or equal to {field.maximum}"
        return None, error_entry(name, message, "number.max", limit=field.maximum, value=raw)
    return value, None
