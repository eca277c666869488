"""Connections to PostgreSQL, with library errors turned into ours at this boundary."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import psycopg
from psycopg import conninfo

from jobs.errors import ConfigError, DatabaseError, DatabaseUnavailable
from jobs.redact import redact_dsn

APPLICATION_NAME = "infra-monitoring"
_SEVERITY = re.compile(r"^(FATAL|ERROR):\s+")
CONNECT_TIMEOUT_SECONDS = 10
DISK_FULL = "53100"


def validate_dsn(dsn: str, origin: str) -> str:
    """Check that ``dsn`` parses as a PostgreSQL conninfo; ``origin`` names where it came from."""
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"{origin} is not a valid PostgreSQL URL: {_first_line(exc)}") from None
    ports = str(params.get("port") or "5432").split(",")
    if not all(p.strip().isdigit() for p in ports):
        raise ConfigError(
            f"{origin} is not a valid PostgreSQL URL: port {params.get('port')!r} is not a number"
        )
    return dsn


def describe(dsn: str) -> str:
    """``user@host:port/dbname`` for messages; never the password."""
    params = conninfo.conninfo_to_dict(dsn)
    host = params.get("host") or "localhost"
    if str(host).startswith("/"):
        host = f"socket {host}"
    port = params.get("port")
    where = f"{host}:{port}" if port else host
    user = params.get("user")
    return f"{f'{user}@' if user else ''}{where}/{params.get('dbname', '')}"


def _first_line(exc: BaseException) -> str:
    """The reason in one line: libpq's last "... failed: <reason>", else the first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    failed = [line for line in lines if "failed: " in line]
    line = failed[-1].rsplit("failed: ", 1)[-1] if failed else lines[0]
    return redact_dsn(" ".join(_SEVERITY.sub("", line).split()))


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection in UTC; unreachable servers and bad credentials raise one clear error.

    Safe behind a transaction-pooling PgBouncer (Neon's ``-pooler`` hosts): the time zone
    travels as the ``TimeZone`` startup parameter, which PgBouncer keeps per client (libpq
    sends ``PGTZ``; an ``options=-c timezone=UTC`` is refused by PgBouncer), and statements
    are never prepared server-side (a prepared statement lives on one server connection).
    """
    os.environ["PGTZ"] = "UTC"  # read by libpq at connect; every connection of ours is UTC
    try:
        return psycopg.connect(
            dsn,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=APPLICATION_NAME,
            prepare_threshold=None,
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe(dsn)}: {_first_line(exc)}"
        ) from None
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid database URL: {_first_line(exc)}") from None


@contextlib.contextmanager
def wrap_errors(action: str) -> Iterator[None]:
    """Turn psycopg errors raised while doing ``action`` into DatabaseError with one line."""
    try:
        yield
    except psycopg.Error as exc:
        if is_connection_lost(exc):
            raise DatabaseUnavailable(
                f"{action}: lost the connection to PostgreSQL: {_first_line(exc)}"
            ) from None
        if exc.sqlstate == DISK_FULL:
            raise DatabaseError(
                f"{action}: the database server is out of disk space ({_first_line(exc)}); "
                "nothing was written"
            ) from None
        raise DatabaseError(f"{action}: {_first_line(exc)}") from None


def is_connection_lost(exc: psycopg.Error) -> bool:
    """Server gone or shutting down (no SQLSTATE, class 08, or 57P01-57P03)."""
    state = exc.sqlstate
    if state is None:
        return isinstance(exc, psycopg.OperationalError)
    return state.startswith("08") or state in ("57P01", "57P02", "57P03")
