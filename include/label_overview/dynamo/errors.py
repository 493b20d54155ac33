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
        """The server's message (one line), or the start of the body when it has none."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return one_line(self.body["message"])
        return one_line(str(self.body))


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
        messages = "; ".join(str(entry.get("message", "?")) for entry in self.entries)
        return one_line(messages) or super().detail()


class RetriesExhaustedError(DynamoError):
    """Retryable failures (429, 5xx, timeouts, dropped connections) went on past the policy.

    ``last`` describes the final failure; ``last_status`` is its HTTP status, or
    ``last_exception`` the transport error it was.
    """

    def __init__(
        self,
        path: str,
        attempts: int,
        elapsed_s: float,
        last: str,
        *,
        last_status: int | None = None,
        last_exception: Exception | None = None,
    ) -> None:
        self.path, self.attempts, self.elapsed_s, self.last = path, attempts, elapsed_s, last
        self.last_status, self.last_exception = last_status, last_exception
        super().__init__(
            f"{path}: gave up after {attempts} attempts in {elapsed_s:.1f}s (last: {last})"
        )


class RunBoundError(DynamoError):
    """The run's time bound passed: no further request is sent (a rerun goes on)."""


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
    """The typed error for a final HTTP error answer."""
    return ERRORS_BY_STATUS.get(status, DynamoHTTPError)(status, body, path)


def one_line(text: str, limit: int = 300) -> str:
    """``text`` with its whitespace runs (newlines included) collapsed, cut at ``limit``."""
    return " ".join(text.split())[:limit]


def describe_exception(error: BaseException) -> str:
    """A transport error for a log line or message: its class and its one-line text."""
    text = one_line(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
