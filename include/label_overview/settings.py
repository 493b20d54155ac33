"""Pipeline settings in one typed object, read from the environment (or an Airflow connection).

Defaults are documented once, in the README's settings table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from label_overview.layout import DataRoot

MODES = ("messages", "label-overview", "both")
# DuckDB reads "?" in a database path as the start of its options and "\\" as a separator, so
# it cannot keep a warehouse below a data root holding either.
UNUSABLE_IN_HOME = "?\\"
# A bucket's name as S3 allows it, then an optional prefix of plain folder names.
_STORAGE_URL = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_.=-]+)*/?")


class SettingsError(ValueError):
    """A setting is missing or malformed."""


class Secret:
    """A string that never shows itself in a repr, str, log line or exception."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the days it covers."""

    api_base_url: str = ""
    api_key: str = ""
    api_secret: Secret = field(default_factory=lambda: Secret(""))
    home: Path = Path("data")
    lookback_days: int = 2
    mode: str = "both"
    keep_text: bool = False
    page_size: int = 500
    max_concurrency: int = 8
    request_timeout_s: float = 30.0
    request_deadline_s: float = 120.0
    # The CLI run's extraction bound; 0 derives it from the plan (pipeline.extraction_bound_s).
    run_timeout_s: float = 0.0
    lock_timeout_s: float = 900.0
    retry_max_total_s: float = 120.0
    # The analysts' read copy's DuckDB storage format: the oldest that holds every type the
    # marts use, so the DuckDB CLI and drivers of 1.4 and later open it (this one writes 2.0's).
    read_copy_storage_version: str = "v1.4.0"
    # The bucket of the data root's shared parts (storage.py); empty keeps them local. The
    # endpoint and keys, when empty, are botocore's own (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
    # AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role); Airflow's come from a connection.
    storage_url: str = ""
    storage_endpoint_url: str = ""
    storage_key: str = ""
    storage_secret: Secret = field(default_factory=lambda: Secret(""))

    @property
    def root(self) -> DataRoot:
        """Where everything lives under the data root."""
        return DataRoot(self.home)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``DYNAMO_API_*`` and ``LABEL_OVERVIEW_*`` variables; absent ones keep defaults."""
        env = os.environ if environ is None else environ
        settings = cls(
            api_base_url=env.get("DYNAMO_API_BASE_URL", ""),
            api_key=env.get("DYNAMO_API_KEY", ""),
            api_secret=Secret(env.get("DYNAMO_API_SECRET", "")),
            home=Path(env.get("LABEL_OVERVIEW_HOME", "data")).absolute(),
            lookback_days=_int(env, "LABEL_OVERVIEW_LOOKBACK_DAYS", 2),
            mode=env.get("LABEL_OVERVIEW_MODE", "both"),
            keep_text=env.get("LABEL_OVERVIEW_KEEP_TEXT", "").lower() in ("1", "true", "yes"),
            page_size=_int(env, "LABEL_OVERVIEW_PAGE_SIZE", 500),
            max_concurrency=_int(env, "LABEL_OVERVIEW_MAX_CONCURRENCY", 8),
            lock_timeout_s=_int(env, "LABEL_OVERVIEW_LOCK_TIMEOUT_S", 900),
            retry_max_total_s=_int(env, "LABEL_OVERVIEW_MAX_RETRY_S", 120),
            request_deadline_s=_int(env, "LABEL_OVERVIEW_REQUEST_DEADLINE_S", 120),
            run_timeout_s=_int(env, "LABEL_OVERVIEW_RUN_TIMEOUT_S", 0),
            read_copy_storage_version=env.get(
                "LABEL_OVERVIEW_READ_COPY_STORAGE_VERSION", "v1.4.0"
            ),
            storage_url=env.get("LABEL_OVERVIEW_STORAGE_URL", ""),
        )
        settings.check()
        return settings

    def with_changes(self, **changes) -> Settings:
        updated = replace(self, **changes)
        updated.check()
        return updated

    def check(self) -> None:
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.lookback_days < 0:
            raise SettingsError("lookback days must be 0 or more")
        if not 1 <= self.page_size <= 500:
            raise SettingsError("page size must be between 1 and 500")
        if self.request_deadline_s <= 0 or self.run_timeout_s < 0:
            raise SettingsError("the request deadline must be positive, the run timeout 0 or more")
        if not re.fullmatch(r"v\d+\.\d+\.\d+", self.read_copy_storage_version):
            raise SettingsError(
                "LABEL_OVERVIEW_READ_COPY_STORAGE_VERSION must look like v1.4.0,"
                f" got {self.read_copy_storage_version!r}"
            )
        if self.storage_url and not _STORAGE_URL.fullmatch(self.storage_url):
            # Keys in the URL would be shown wherever the URL is: they live elsewhere.
            raise SettingsError(
                "LABEL_OVERVIEW_STORAGE_URL must look like s3://bucket or s3://bucket/prefix"
            )
        unusable = [c for c in UNUSABLE_IN_HOME if c in str(self.home)]
        if unusable:
            raise SettingsError(
                f"LABEL_OVERVIEW_HOME must not contain {' or '.join(map(repr, unusable))}:"
                " DuckDB cannot keep a warehouse below it"
            )
        # Requests are signed and sent as UTF-8; the values themselves are never shown.
        for name, value in (
            ("DYNAMO_API_BASE_URL", self.api_base_url),
            ("DYNAMO_API_KEY", self.api_key),
            ("DYNAMO_API_SECRET", self.api_secret.reveal()),
        ):
            try:
                value.encode()
            except UnicodeEncodeError:
                raise SettingsError(f"{name} is not valid UTF-8 text") from None

    def require_api(self) -> None:
        """Raise SettingsError unless the API base URL, key and secret are all set."""
        missing = [
            name
            for name, value in (
                ("DYNAMO_API_BASE_URL", self.api_base_url),
                ("DYNAMO_API_KEY", self.api_key),
                ("DYNAMO_API_SECRET", self.api_secret),
            )
            if not value
        ]
        if missing:
            raise SettingsError(f"missing API settings: {', '.join(missing)}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
