"""Request signing, against a vector computed independently with openssl."""

from __future__ import annotations

import datetime as dt

import httpx

from label_overview.dynamo.signing import DynamoAuth, format_x_date, sign
from label_overview.settings import Secret

SECRET = "dyn_secret_9f86d081884c7d659a2feaa0c55ad015"
X_DATE = "2026-05-30T13:00:00.000Z"
# printf '%s' '2026-05-30T13:00:00.000Z' | openssl dgst -sha256 -hmac "$SECRET"
OPENSSL_SIGNATURE = "d02e55764aa105559d9dd5c2544720a50c5f5dbba1caf230e64fa8aee5342f97"


def test_signature_matches_openssl():
    assert sign(SECRET, X_DATE) == OPENSSL_SIGNATURE
    assert sign(Secret(SECRET), X_DATE) == OPENSSL_SIGNATURE
    # printf '%s' '2026-05-30T13:00:00.000Z' | openssl dgst -sha256 -hmac 'SECRET'
    assert sign("SECRET", X_DATE) == (
        "d8c7e054b8bd9408db34c4621a752ed597bd8426914ab43bcd78696dd3ec8dd6"
    )


def test_x_date_is_utc_with_milliseconds():
    moment = dt.datetime(2026, 5, 30, 15, 0, 0, 123999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_x_date(moment) == "2026-05-30T13:00:00.123Z"


def test_auth_signs_each_request_at_its_own_time():
    moments = iter(
        [
            dt.datetime(2026, 5, 30, 13, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 5, 30, 13, 0, 1, tzinfo=dt.UTC),
        ]
    )
    auth = DynamoAuth("key-1", Secret(SECRET), clock=lambda: next(moments))
    first = next(auth.auth_flow(httpx.Request("GET", "https://api.example/v1/workspaces")))
    second = next(auth.auth_flow(httpx.Request("GET", "https://api.example/v1/workspaces")))
    assert first.headers["x-api-key"] == "key-1"
    assert first.headers["x-date"] == X_DATE
    assert first.headers["x-signature"] == OPENSSL_SIGNATURE
    assert second.headers["x-date"] == "2026-05-30T13:00:01.000Z"
    assert second.headers["x-signature"] == sign(SECRET, "2026-05-30T13:00:01.000Z")


def test_the_secret_never_shows():
    for auth in (DynamoAuth("key-1", SECRET), DynamoAuth("key-1", Secret(SECRET))):
        assert SECRET not in repr(auth) + str(auth)
    assert SECRET not in repr(Secret(SECRET)) + str(Secret(SECRET))
