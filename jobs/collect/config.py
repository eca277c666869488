"""The collection job's configuration, read from the environment and validated at once.

A source is enabled when its credentials are present; half-given credentials are a
configuration error (exit 2) naming what is missing, never a silently skipped source.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from jobs.errors import ConfigError
from jobs.redact import credential_forms

DEFAULT_BACKFILL_DAYS = 7
MAX_BACKFILL_DAYS = 730  # sources split longer ranges into requests the providers accept
_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True)
class VercelConfig:
    token: str
    team_id: str | None
    base_url: str


@dataclass(frozen=True)
class NeonConfig:
    api_key: str
    project_ids: tuple[str, ...]
    org_id: str | None
    base_url: str


@dataclass(frozen=True)
class UpstashConfig:
    email: str
    api_key: str
    database_ids: tuple[str, ...]
    base_url: str


@dataclass(frozen=True)
class HttpConfig:
    timeout: float = 30.0
    attempts: int = 5
    budget: float = 120.0  # seconds per request, retries included
    source_budget: float = 600.0  # seconds per source, all its requests included
    max_response_mb: float = 256.0  # one response body, decompressed


@dataclass(frozen=True)
class CollectConfig:
    vercel: VercelConfig | None
    neon: NeonConfig | None
    upstash: UpstashConfig | None
    backfill_days: int
    http: HttpConfig

    @property
    def any_source(self) -> bool:
        return any((self.vercel, self.neon, self.upstash))

    @property
    def secrets(self) -> list[str]:
        """The credentials, in every form they are sent in: never printed, never stored."""
        found = []
        if self.vercel:
            found.append(self.vercel.token)
        if self.neon:
            found.append(self.neon.api_key)
        if self.upstash:
            found += credential_forms(self.upstash.email, self.upstash.api_key)
        return found


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _credential(env: Mapping[str, str], name: str) -> str | None:
    """A token as an HTTP header carries it: printable ASCII without spaces. Anything else
    (a line break pasted with it, above all) is refused naming the variable, never quoting
    it: httpx would echo the whole value in its "Illegal header value" error."""
    value = _get(env, name)
    if value is not None and not all("!" <= c <= "~" for c in value):
        raise ConfigError(
            f"{name} holds a line break, space, control or non-ASCII character: set it "
            "again to exactly the value the provider shows"
        )
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError when it is not a number from 0 to 65535
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        parts, port = urlsplit(""), 0
    plain = value.isascii() and value.isprintable() and " " not in value
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0 or not plain:
        raise ConfigError(
            f"{name} must be an http(s) URL such as {default} (a port from 1 to 65535, no "
            f"spaces or control characters), not {value!r}"
        )
    return value.rstrip("/")


def _ids(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = _get(env, name) or ""
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    for item in ids:
        if not _ID.match(item):
            raise ConfigError(f"{name}: {item!r} is not an id (letters, digits, _ . : - only)")
    return ids


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, whole: bool = False
) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:  # NaN and infinities fail this too
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {raw!r}")
    if whole and not value.is_integer():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return value


def _require_together(env: Mapping[str, str], names: tuple[str, ...]) -> bool:
    present = [n for n in names if _get(env, n)]
    if present and len(present) < len(names):
        missing = ", ".join(n for n in names if n not in present)
        raise ConfigError(f"{', '.join(present)} set but {missing} missing")
    return bool(present)


def backfill_days(value: str, origin: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ConfigError(f"{origin} must be a whole number of days, not {value!r}") from None
    if not 1 <= days <= MAX_BACKFILL_DAYS:
        raise ConfigError(f"{origin} must be between 1 and {MAX_BACKFILL_DAYS}, not {days}")
    return days


def from_env(env: Mapping[str, str] | None = None) -> CollectConfig:
    env = os.environ if env is None else env
    vercel = None
    if _credential(env, "VERCEL_TOKEN"):
        vercel = VercelConfig(
            token=_credential(env, "VERCEL_TOKEN") or "",
            team_id=_get(env, "VERCEL_TEAM_ID"),
            base_url=_url(env, "VERCEL_API_URL", "https://api.vercel.com"),
        )
    elif _get(env, "VERCEL_TEAM_ID"):
        raise ConfigError("VERCEL_TEAM_ID set but VERCEL_TOKEN missing")

    neon = None
    project_ids, org_id = _ids(env, "NEON_PROJECT_ID"), _get(env, "NEON_ORG_ID")
    if org_id and not _ID.match(org_id):
        raise ConfigError(f"NEON_ORG_ID: {org_id!r} is not an id")
    if _credential(env, "NEON_API_KEY"):
        if not (project_ids or org_id):
            raise ConfigError("NEON_API_KEY set but neither NEON_PROJECT_ID nor NEON_ORG_ID")
        neon = NeonConfig(
            api_key=_credential(env, "NEON_API_KEY") or "",
            project_ids=project_ids,
            org_id=org_id,
            base_url=_url(env, "NEON_API_URL", "https://console.neon.tech/api/v2"),
        )
    elif project_ids or org_id:
        raise ConfigError("NEON_PROJECT_ID or NEON_ORG_ID set but NEON_API_KEY missing")

    upstash = None
    if _require_together(env, ("UPSTASH_EMAIL", "UPSTASH_API_KEY", "UPSTASH_DATABASE_IDS")):
        upstash = UpstashConfig(
            email=_credential(env, "UPSTASH_EMAIL") or "",
            api_key=_credential(env, "UPSTASH_API_KEY") or "",
            database_ids=_ids(env, "UPSTASH_DATABASE_IDS"),
            base_url=_url(env, "UPSTASH_API_URL", "https://api.upstash.com"),
        )

    raw_days = _get(env, "COLLECT_BACKFILL_DAYS")
    days = backfill_days(raw_days, "COLLECT_BACKFILL_DAYS") if raw_days else DEFAULT_BACKFILL_DAYS
    http = HttpConfig(
        timeout=_number(env, "COLLECT_HTTP_TIMEOUT", 30.0, 0.1, 600),
        attempts=int(_number(env, "COLLECT_RETRY_ATTEMPTS", 5, 1, 20, whole=True)),
        budget=_number(env, "COLLECT_RETRY_BUDGET", 120.0, 1, 3600),
        source_budget=_number(env, "COLLECT_SOURCE_BUDGET", 600.0, 1, 21600),
        max_response_mb=_number(env, "COLLECT_MAX_RESPONSE_MB", 256.0, 1, 4096),
    )
    return CollectConfig(vercel, neon, upstash, days, http)
