"""Faults a real PostgreSQL can be made to have, for the fault-injection suite.

- ``holding_lock``: another session holds a table lock, so the job's write waits (the moment
  to kill the server, send SIGTERM, or let a statement timeout fire);
- ``waiting_on_lock``: until a job's session waits on such a lock;
- ``disk_full``: writes to a table fail with SQLSTATE 53100 (disk_full), raised by a trigger
  the way PostgreSQL raises it when it cannot extend a file; ``ddl_disk_full`` does the same
  for DDL with an event trigger (needs a superuser, as the test servers' admin is);
- ``with_statement_timeout``: a DSN whose sessions cancel statements after ``ms``.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator

import psycopg
from psycopg import conninfo, sql

from jobs.db import APPLICATION_NAME

DISK_FULL_MESSAGE = 'could not extend file "base/16384/16402": No space left on device'


@contextlib.contextmanager
def holding_lock(dsn: str, target: str, mode: str = "SHARE") -> Iterator[psycopg.Connection]:
    """Hold ``LOCK TABLE target IN mode MODE`` (or an advisory lock: ``target`` = key text
    with ``mode`` = "ADVISORY") until the block ends."""
    conn = psycopg.connect(dsn)
    try:
        if mode == "ADVISORY":
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [target])
        else:
            conn.execute(
                sql.SQL("LOCK TABLE {} IN {} MODE").format(sql.Identifier(target), sql.SQL(mode))
            )
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()


def waiting_on_lock(
    dsn: str, statement_part: str, process: subprocess.Popen[str] | None = None
) -> None:
    """Return once a job session (application_name infra-monitoring) waits on a lock while
    running a statement containing ``statement_part``; fail if the job ends first."""
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND wait_event_type = 'Lock' AND strpos(query, %s) > 0",
                [APPLICATION_NAME, statement_part],
            ).fetchone()
            if row and row[0]:
                return
            if process is not None and process.poll() is not None:
                out, err = process.communicate()
                raise AssertionError(f"the job ended before it waited: {out} {err}")
            time.sleep(0.05)
    raise AssertionError(f"no job session waited on {statement_part!r}")


def job_sessions(dsn: str) -> int:
    """Sessions the jobs (or providers) still hold open on the database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            [APPLICATION_NAME],
        ).fetchone()
    return int(row[0]) if row else 0


_RAISE_DISK_FULL = sql.SQL(
    "CREATE OR REPLACE FUNCTION fault_disk_full() RETURNS {} LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = {}; END $$"
)


@contextlib.contextmanager
def disk_full(dsn: str, table: str, events: str = "INSERT OR UPDATE") -> Iterator[None]:
    """Every ``events`` on ``table`` fails as a full disk does (SQLSTATE 53100)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(_RAISE_DISK_FULL.format(sql.SQL("trigger"), sql.Literal(DISK_FULL_MESSAGE)))
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER fault_disk_full BEFORE {} ON {} "
                "FOR EACH ROW EXECUTE FUNCTION fault_disk_full()"
            ).format(sql.SQL(events), sql.Identifier(table))
        )
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP TRIGGER fault_disk_full ON {}").format(sql.Identifier(table))
            )
            conn.execute("DROP FUNCTION fault_disk_full()")


@contextlib.contextmanager
def ddl_disk_full(dsn: str) -> Iterator[None]:
    """Every DDL statement fails as a full disk does (an event trigger; superuser only)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            _RAISE_DISK_FULL.format(sql.SQL("event_trigger"), sql.Literal(DISK_FULL_MESSAGE))
        )
        conn.execute(
            "CREATE EVENT TRIGGER fault_disk_full ON ddl_command_end "
            "EXECUTE FUNCTION fault_disk_full()"
        )
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP EVENT TRIGGER fault_disk_full")
            conn.execute("DROP FUNCTION fault_disk_full()")


def with_statement_timeout(dsn: str, ms: int) -> str:
    return conninfo.make_conninfo(dsn, options=f"-c statement_timeout={ms}")
