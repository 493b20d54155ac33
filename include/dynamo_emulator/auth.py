"""HMAC request authentication as the vendor documents it, with the decided time window.

The 403 messages never contain the secret or the expected signature: they name what is
wrong so that a client (or its operator) can fix it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping

MAX_AGE_S = 60.0
MAX_AHEAD_S = 5.0


def expected_signature(secret: str, x_date: str) -> str:
    """Lowercase hex HMAC-SHA256 of the exact ``x-date`` string, keyed by the secret."""
    return hmac.new(secret.encode(), x_date.encode(), hashlib.sha256).hexdigest()


def parse_x_date(text: str) -> dt.datetime | None:
    """An ISO-8601 UTC instant (``2026-05-30T13:00:00.000Z``), or None when it is not one."""
    if "T" not in text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() != dt.timedelta(0):
        return None  # naive or another zone: the vendor asks for UTC
    return moment


def authentication_failure(
    headers: Mapping[str, str], secret_of: Callable[[str], str | None], now: dt.datetime
) -> str | None:
    """Why a request fails authentication (the 403 message), or None when it passes.

    Accepted when the key is known, the signature matches and ``now - x-date`` lies in
    [-5 s, +60 s].

    Args:
        headers: the request headers, names in lowercase.
        secret_of: the secret of an API key, None for an unknown key.
        now: the server's clock when the request arrived.
    """
    key = headers.get("x-api-key")
    x_date = headers.get("x-date")
    signature = headers.get("x-signature")
    if not key:
        return "Missing x-api-key header"
    secret = secret_of(key)
    if secret is None:
        return "Unknown API key"
    if not x_date:
        return "Missing x-date header"
    if not signature:
        return "Missing x-signature header"
    sent = parse_x_date(x_date)
    if sent is None:
        return (
            "Malformed x-date header: expected an ISO-8601 UTC time like 2026-05-30T13:00:00.000Z"
        )
    # Bytes, so that a non-ASCII header compares as unequal instead of raising.
    expected = expected_signature(secret, x_date).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        return "Invalid signature"
    age = (now - sent).total_seconds()
    if age > MAX_AGE_S:
        return (
            f"Request date is too old ({age:.1f}s, at most {MAX_AGE_S:.0f}s):"
            " clock skew, check the client's clock"
        )
    if age < -MAX_AHEAD_S:
        return (
            f"Request date is in the future ({-age:.1f}s, at most {MAX_AHEAD_S:.0f}s):"
            " clock skew, check the client's clock"
        )
    return None
