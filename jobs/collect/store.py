"""Where collected rows go: bulk upserts into InfrastructureMetric, watermarks, run history.

Each source's rows are written in one transaction by one call of the database function
``merge_metrics`` (sql/deploy/merge_metrics.sql): the rows go as one array per column (the
metadata as one JSON array), and the function replaces what other windows of the same usage
overlap, inserts new windows, updates changed ones and leaves identical ones alone, so the
counts say what really changed. The jobs role may call it but not write the table itself
(docs/security.md). The connection is in autocommit mode: nothing stays open while the
sources are fetched.

Nothing here depends on session state, so it works through a transaction-pooling PgBouncer
(Neon's ``-pooler`` URLs), where each transaction may run on another server connection:
the run's lock is a transaction-scoped advisory lock held by a transaction of its own
(``run_lock``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from jobs import db, settings
from jobs.collect.records import MetricRow, Purchase
from jobs.db import wrap_errors
from jobs.errors import CollectionBusy, ConfigError
from jobs.queries import query

LOCK_KEY = "infra-monitoring:collect"
REQUIRED_TABLES = ("InfrastructureMetric", "CollectionWatermark", "CollectionRun")
REQUIRED_FUNCTIONS = ("merge_metrics",)


@dataclass(frozen=True)
class Written:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    replaced: int = 0  # rows of another granularity or time zone the new windows overlapped


def check_schema(
    conn: psycopg.Connection,
    tables: Sequence[str] = REQUIRED_TABLES,
    functions: Sequence[str] = REQUIRED_FUNCTIONS,
) -> None:
    """Raise ConfigError naming the ``tables`` and ``functions`` that do not exist (the
    schema is not up, or older than the jobs)."""
    with wrap_errors("checking the schema"):
        rows = conn.execute(query("collect", "missing_tables"), {"names": list(tables)}).fetchall()
        gone = conn.execute(
            query("collect", "missing_functions"), {"names": list(functions)}
        ).fetchall()
    lacks = []
    if rows:
        lacks.append(f"the tables {', '.join(r[0] for r in rows)}")
    if gone:
        lacks.append(f"the functions {', '.join(r[0] for r in gone)}")
    if lacks:
        raise ConfigError(f"the database lacks {' and '.join(lacks)}: {settings.schema_advice()}")


@contextlib.contextmanager
def run_lock(dsn: str, wait_seconds: float) -> Iterator[None]:
    """Hold the collection lock for the ``with`` block, waiting at most ``wait_seconds``.

    A transaction-scoped advisory lock in a transaction left open on a connection of its
    own: behind a transaction pooler that transaction pins one server connection, which
    holds the lock until the block ends (rollback) or the job dies (the server ends the
    transaction). A session-level lock would stay on whichever server connection took it,
    and the unlock could run on another. The open transaction takes no snapshot between
    statements, so it holds back no vacuum.
    """
    with db.connect(dsn) as conn:
        with wrap_errors("taking the collection lock"):
            if wait_seconds <= 0:
                row = conn.execute(query("collect", "try_lock"), {"key": LOCK_KEY}).fetchone()
                locked = bool(row and row[0])
            else:
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    [f"{int(wait_seconds * 1000)}ms"],
                )
                try:
                    conn.execute(query("collect", "lock"), {"key": LOCK_KEY})
                    locked = True
                except pg_errors.LockNotAvailable:
                    locked = False
        if not locked:
            raise CollectionBusy(
                f"another collection run holds the lock (waited {wait_seconds:g}s); "
                "this run collected nothing, the running one collects the same windows"
            )
        try:
            yield
        finally:
            # Ends the transaction, and the lock with it; if the connection is gone, the
            # server has ended both already.
            with contextlib.suppress(psycopg.Error):
                conn.rollback()


def watermarks(conn: psycopg.Connection) -> dict[str, datetime | None]:
    with wrap_errors("reading watermarks"):
        return dict(conn.execute(query("collect", "watermarks")).fetchall())


def merge_arguments(rows: Sequence[MetricRow]) -> dict[str, object]:
    """merge_metrics' arguments: one list per column, and the metadata as one JSON array
    (one encoder call for the batch instead of one per row)."""
    return {
        "services": [r.service for r in rows],
        "metric_types": [r.metric_type for r in rows],
        "values": [r.value for r in rows],
        "units": [r.unit for r in rows],
        "starts": [r.start for r in rows],
        "ends": [r.end for r in rows],
        "sources": [r.source for r in rows],
        "projects": [r.project for r in rows],
        "metadata": json.dumps([r.metadata for r in rows]),
    }


def _merge(conn: psycopg.Connection, rows: Sequence[MetricRow]) -> Written:
    counts = conn.execute(query("collect", "merge_metrics"), merge_arguments(rows)).fetchone()
    new, updated, replaced = (int(c) for c in counts) if counts else (0, 0, 0)
    return Written(new, updated, len(rows) - new - updated, replaced)


def write(
    conn: psycopg.Connection,
    source: str,
    rows: Sequence[MetricRow],
    *,
    through: datetime | None,
    run_id: str,
    at: datetime,
    purchases: Sequence[Purchase] = (),
    mark: bool = False,
    notes: Sequence[str] = (),
) -> Written:
    """Upsert ``rows`` (and ``purchases``) and, with ``mark``, record the success of
    ``source`` (its watermark moves to ``through`` unless that is None; ``notes`` become its
    last note), all or nothing. File imports keep no watermark (``mark`` False)."""
    with wrap_errors(f"writing {source}"), conn.transaction():
        written = _merge(conn, rows) if rows else Written()
        if purchases:
            with conn.cursor() as cur:
                cur.executemany(
                    query("collect", "upsert_purchase"),
                    [
                        {
                            "provider": p.provider,
                            "service_name": p.service_name,
                            "start": p.start,
                            "end": p.end,
                            "billed": p.billed_cost,
                            "effective": p.effective_cost,
                            "source": source,
                        }
                        for p in purchases
                    ],
                )
        if mark:
            conn.execute(
                query("collect", "record_success"),
                {
                    "source": source,
                    "through": through,
                    "at": at,
                    "run_id": run_id,
                    "note": "; ".join(notes) or None,
                },
            )
    return written


def record_failure(
    conn: psycopg.Connection, source: str, error: str, *, run_id: str, at: datetime
) -> None:
    with wrap_errors(f"recording the failure of {source}"):
        conn.execute(
            query("collect", "record_failure"),
            {"source": source, "error": error, "at": at, "run_id": run_id},
        )


def record_run(
    conn: psycopg.Connection,
    *,
    run_id: str,
    started: datetime,
    finished: datetime,
    ok: bool,
    trigger: str,
    rows_written: int,
    sources: list[dict[str, object]],
) -> None:
    with wrap_errors("recording the run"):
        conn.execute(
            query("collect", "record_run"),
            {
                "id": run_id,
                "started": started,
                "finished": finished,
                "status": "ok" if ok else "failed",
                "trigger": trigger,
                "rows_written": rows_written,
                "sources": Jsonb(sources),
            },
        )
