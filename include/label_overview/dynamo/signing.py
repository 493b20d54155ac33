"""Request signing: HMAC-SHA256 of the exact ``x-date`` string, done afresh for every attempt."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Generator

import httpx

from label_overview.settings import Secret

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The default clock: now, in UTC."""
    return dt.datetime.now(dt.UTC)


def format_x_date(moment: dt.datetime) -> str:
    """``2026-05-30T13:00:00.000Z``: ISO-8601, UTC, milliseconds."""
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def sign(secret: Secret | str, x_date: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``x_date`` keyed with the secret."""
    key = secret.reveal() if isinstance(secret, Secret) else secret
    return hmac.new(key.encode(), x_date.encode(), hashlib.sha256).hexdigest()


class DynamoAuth(httpx.Auth):
    """Sets x-api-key, x-date and x-signature on each request as it is sent.

    httpx calls ``auth_flow`` for every request the client sends, and the retry policy sends
    each attempt as a new request, so every attempt carries its own date and signature.
    """

    def __init__(self, api_key: str, secret: Secret | str, clock: Clock = utc_now) -> None:
        self._api_key = api_key
        self._secret = secret if isinstance(secret, Secret) else Secret(secret)
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        x_date = format_x_date(self._clock())
        request.headers["x-api-key"] = self._api_key
        request.headers["x-date"] = x_date
        request.headers["x-signature"] = sign(self._secret, x_date)
        yield request

    def __repr__(self) -> str:
        return f"DynamoAuth(api_key={self._api_key!r}, secret={self._secret!r})"
