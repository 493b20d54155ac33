"""Typed errors of the Dynamo API client. Messages are one line and never hold the secret."""

from __future__ import annotations

from typing import Any


class DynamoError(Exception):
    """Anything the client could not get from the API."""


class DynamoHTTPError(DynamoError):
    """A final (non-retryable) HTTP error answer, with its status and parsed body."""

    def __init__(self, status: int, body: Any, path: str) -> None:
        self.status, self.body, self.path = status, body, path
        super().__init__(f"{path} answered {status}: {self.detail()}")

    def detail(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return self.body["message"]
        return str(self.body)[:200]


class BusinessRuleError(DynamoHTTPError):
    """400: e.g. channel not connected, workspace not VIP, window over 31 days."""


class OrganizationInactiveError(DynamoHTTPError):
    """402: the organization is inactive."""


class AuthenticationError(DynamoHTTPError):
    """403: unknown key, bad signature, or a date outside the server's window."""

    @property
    def is_clock_skew(self) -> bool:
        server_says = DynamoHTTPError.detail(self).lower()
        return any(word in server_says for word in ("clock", "too old", "future"))

    def detail(self) -> str:
        text = DynamoHTTPError.detail(self)
        if self.is_clock_skew:
            return f"clock skew: {text}; sync this machine's clock (NTP) and rerun"
        return text


class NotFoundError(DynamoHTTPError):
    """404: the workspace or another resource does not exist."""


class ValidationError(DynamoHTTPError):
    """422: the request's shape is invalid; ``entries`` lists each offending field."""

    @property
    def entries(self) -> list[dict[str, Any]]:
        return list(self.body.get("error", [])) if isinstance(self.body, dict) else []

    def detail(self) -> str:
        return "; ".join(entry.get("message", "?") for entry in self.entries) or super().detail()


class RetriesExhaustedError(DynamoError):
    """Retryable failures (429, 5xx, timeouts, dropped connections) went on past the policy."""

    def __init__(self, path: str, attempts: int, elapsed_s: float, last: str) -> None:
        self.path, self.attempts, self.elapsed_s, self.last = path, attempts, elapsed_s, last
        super().__init__(
            f"{path}: gave up after {attempts} attempts in {elapsed_s:.1f}s (last: {last})"
        )


class ResponseFormatError(DynamoError):
    """The API answered 200 with a body that is not what the contract says."""


ERRORS_BY_STATUS: dict[int, type[DynamoHTTPError]] = {
    400: BusinessRuleError,
    402: OrganizationInactiveError,
    403: AuthenticationError,
    404: NotFoundError,
    422: ValidationError,
}


def http_error(status: int, body: Any, path: str) -> DynamoHTTPError:
    return ERRORS_BY_STATUS.get(status, DynamoHTTPError)(status, body, path)
