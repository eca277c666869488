"""Connections to PostgreSQL, with library errors turned into ours at this boundary."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import psycopg
from psycopg import conninfo

from jobs.errors import ConfigError, DatabaseError, DatabaseUnavailable
from jobs.queries import query
from jobs.redact import redact_dsn

APPLICATION_NAME = "infra-monitoring"
_SEVERITY = re.compile(r"^(FATAL|ERROR):\s+")
CONNECT_TIMEOUT_SECONDS = 10
DISK_FULL = "53100"


_URL_SCHEMES = ("postgresql://", "postgres://")
# A host name, an IP address (IPv6 with a zone), or a Unix socket directory.
_HOST = re.compile(r"^(/.*|[A-Za-z0-9._%:-]+)$")
ENCODE_HINT = "percent-encode the password (docs/security.md, 'The jobs' URL')"


def validate_dsn(dsn: str, origin: str) -> str:
    """Check that ``dsn`` parses as a PostgreSQL URL or conninfo; ``origin`` names where it
    came from. The message never quotes the value: a password that is not percent-encoded
    is cut by the parser into a host, a port or a database name, so any part may hold it."""
    problem = _dsn_problem(dsn)
    if problem:
        raise ConfigError(f"{origin} is not a valid PostgreSQL URL: {problem}")
    return dsn


def _dsn_problem(dsn: str) -> str | None:
    if dsn.lower().startswith(_URL_SCHEMES):
        rest = dsn.split("://", 1)[1]
        slash = rest.find("/")
        authority = rest if slash < 0 else rest[:slash]
        # libpq ends the user and password at the first "@" or "/": another "@" later means
        # the password held one of them, and the rest would become the host or database.
        if authority.count("@") > 1 or (slash >= 0 and "@" in rest[slash:]):
            return f"its password (or user) holds a character such as / or @; {ENCODE_HINT}"
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        return f"{_parser_reason(exc)}; {ENCODE_HINT}"
    except UnicodeDecodeError:  # a percent-encoded byte sequence that is not UTF-8
        return f"a percent-encoded part is not UTF-8; {ENCODE_HINT}"
    except UnicodeEncodeError:  # undecodable bytes in the environment
        return "it holds bytes that are not valid UTF-8"
    for port in str(params.get("port") or "5432").split(","):
        port = port.strip()
        valid = port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535
        if port and not valid:
            return "a port is not a number from 1 to 65535"
    for key in ("host", "hostaddr"):
        hosts = str(params.get(key) or "").split(",")
        if not all(_HOST.match(h.strip()) for h in hosts if h.strip()):
            return f"a {key} holds characters no host name has; {ENCODE_HINT}"
    return None


def _parser_reason(exc: BaseException) -> str:
    """libpq's complaint cut where it starts quoting the text (part of the password, maybe,
    and a password may hold quotes too)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    head, quote, _ = first.partition('"')
    return (head.rstrip(" :") + (' "…"' if quote else "")) or "unreadable"


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


# What every job session relies on, set right after connecting so that the role's own
# defaults (`ALTER ROLE CURRENT_USER SET statement_timeout = 1`, which the jobs role may run
# on itself) cannot break the jobs. Set by a statement, not as the ``options`` startup
# parameter, which PgBouncer refuses. The database's settings (ALTER DATABASE … SET, the
# owner's) are put back right after, and the URL's own ``options`` win over both
# (docs/security.md). Behind a transaction pooler a SET holds only on the server
# connection it ran on, so there later transactions may see the role's defaults.
SESSION_SETTINGS = {
    "statement_timeout": "10min",
    "lock_timeout": "2min",
    "idle_in_transaction_session_timeout": "10min",
    "idle_session_timeout": "0",
    "default_transaction_read_only": "off",
    "default_transaction_isolation": "read committed",
    "default_transaction_deferrable": "off",
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",
}
_OPTION_NAME = re.compile(r"-c\s*([\w.]+)=")


def _given_options(dsn: str) -> set[str]:
    """The settings the URL's own ``options`` set (``-c statement_timeout=60s``)."""
    options = str(conninfo.conninfo_to_dict(dsn).get("options") or "")
    return {name.lower() for name in _OPTION_NAME.findall(options)}


def _set_session(conn: psycopg.Connection, dsn: str) -> None:
    """Our session settings (one statement, before anything a 1 ms timeout could cut), then
    the database's own for the same names, except what the URL sets itself."""
    given = _given_options(dsn)
    ours = {name: value for name, value in SESSION_SETTINGS.items() if name.lower() not in given}
    apply = query("session", "apply_settings")
    conn.execute(apply, {"names": list(ours), "values": list(ours.values())})
    wanted = {name.lower(): name for name in ours}
    theirs = {}
    for (entry,) in conn.execute(query("session", "database_settings")).fetchall():
        name, _, value = str(entry).partition("=")
        if name.lower() in wanted:
            theirs[wanted[name.lower()]] = value
    if theirs:
        conn.execute(apply, {"names": list(theirs), "values": list(theirs.values())})
    if not conn.autocommit:
        conn.commit()


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection in UTC, with the session settings the jobs rely on; unreachable
    servers and bad credentials raise one clear error.

    Safe behind a transaction-pooling PgBouncer (Neon's ``-pooler`` hosts): the time zone
    travels as the ``TimeZone`` startup parameter, which PgBouncer keeps per client (libpq
    sends ``PGTZ``; an ``options=-c timezone=UTC`` is refused by PgBouncer), and statements
    are never prepared server-side (a prepared statement lives on one server connection).
    """
    os.environ["PGTZ"] = "UTC"  # read by libpq at connect; every connection of ours is UTC
    try:
        conn = psycopg.connect(
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
    try:
        with wrap_errors("setting up the session"):
            _set_session(conn, dsn)
    except BaseException:
        conn.close()
        raise
    return conn


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
