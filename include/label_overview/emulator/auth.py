"""HMAC request authentication as the vendor documents it, with the decided time window."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

MAX_AGE_S = 60.0
MAX_AHEAD_S = 5.0


def expected_signature(secret: str, x_date: str) -> str:
    return hmac.new(secret.encode(), x_date.encode(), hashlib.sha256).hexdigest()


def authentication_failure(headers: dict[str, str], secret_of, now: dt.datetime) -> str | None:
    """Why a request fails authentication (the 403 message), or None when it passes.

    Accepted when the signature matches and ``now - x-date`` lies in [-5 s, +60 s].
    """
    key = headers.get("x-api-key")
    x_date = headers.get("x-date")
    signature = headers.get("x-signature")
    if not key:
        return "Missing x-api-key header"
    secret = secret_of(key)
    if secret is None:
        return "Unknown API key"
    if not x_date or not signature:
        return "Missing x-date or x-signature header"
    try:
        sent = dt.datetime.fromisoformat(x_date.replace("Z", "+00:00"))
    except ValueError:
        return "Malformed x-date header"
    if sent.tzinfo is None:
        return "Malformed x-date header"
    if not hmac.compare_digest(expected_signature(secret, x_date), signature.lower()):
        return "Invalid signature"
    age = (now - sent).total_seconds()
    if age > MAX_AGE_S:
        return f"Request date is too old ({age:.1f}s): check the client's clock (clock skew)"
    if age < -MAX_AHEAD_S:
        return f"Request date is in the future ({-age:.1f}s): check the client's clock (clock skew)"
    return None
