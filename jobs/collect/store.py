"""Where collected rows go: bulk upserts into InfrastructureMetric, watermarks, run history.

Each source's rows are written in one transaction: COPY into a temporary table, then one
``INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE`` that inserts new windows, updates
changed ones and leaves identical ones alone, so the counts say what really changed.
The connection is in autocommit mode: nothing stays open while the sources are fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from jobs.collect.records import MetricRow
from jobs.db import wrap_errors
from jobs.errors import CollectionBusy, ConfigError
from jobs.queries import query

LOCK_KEY = "infra-monitoring:collect"
REQUIRED_TABLES = ("InfrastructureMetric", "CollectionWatermark", "CollectionRun")


@dataclass(frozen=True)
class Written:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    replaced: int = 0  # rows of another granularity or time zone the new windows overlapped


def check_schema(conn: psycopg.Connection, tables: Sequence[str] = REQUIRED_TABLES) -> None:
    """Raise ConfigError naming the ``tables`` that do not exist (the schema is not up)."""
    with wrap_errors("checking the schema"):
        rows = conn.execute(query("collect", "missing_tables"), {"names": list(tables)}).fetchall()
    if rows:
        missing = ", ".join(r[0] for r in rows)
        raise ConfigError(
            f"the database lacks the tables {missing}: run `python -m jobs schema up` "
            "(or pulumi up)"
        )


def acquire_lock(conn: psycopg.Connection, wait_seconds: float) -> None:
    """Take the collection lock (session level), waiting at most ``wait_seconds``."""
    with wrap_errors("taking the collection lock"):
        if wait_seconds <= 0:
            row = conn.execute(query("collect", "try_lock"), {"key": LOCK_KEY}).fetchone()
            if row and row[0]:
                return
        else:
            try:
                with conn.transaction():
                    conn.execute(
                        "SELECT set_config('lock_timeout', %s, true)",
                        [f"{int(wait_seconds * 1000)}ms"],
                    )
                    conn.execute(query("collect", "lock"), {"key": LOCK_KEY})
                return
            except pg_errors.LockNotAvailable:
                pass
    raise CollectionBusy(
        f"another collection run holds the lock (waited {wait_seconds:g}s); "
        "this run collected nothing, the running one collects the same windows"
    )


def release_lock(conn: psycopg.Connection) -> None:
    with wrap_errors("releasing the collection lock"):
        conn.execute(query("collect", "unlock"), {"key": LOCK_KEY})


def watermarks(conn: psycopg.Connection) -> dict[str, datetime | None]:
    with wrap_errors("reading watermarks"):
        return dict(conn.execute(query("collect", "watermarks")).fetchall())


def prepare(conn: psycopg.Connection) -> None:
    """Create this session's staging table (outside any transaction, so it stays)."""
    with wrap_errors("preparing the staging table"):
        conn.execute(query("collect", "create_stage"))


def _merge(conn: psycopg.Connection, rows: Sequence[MetricRow]) -> Written:
    with conn.cursor() as cur:
        with cur.copy(query("collect", "copy_stage")) as copy:
            for r in rows:
                copy.write_row(r.copy_values())
        gone = cur.execute(query("collect", "replace_overlaps")).fetchone()
        counts = cur.execute(query("collect", "merge_stage")).fetchone()
    new, updated = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    return Written(new, updated, len(rows) - new - updated, int(gone[0]) if gone else 0)


def write(
    conn: psycopg.Connection,
    source: str,
    rows: Sequence[MetricRow],
    *,
    through: datetime | None,
    run_id: str,
    at: datetime,
    mark: bool = False,
    notes: Sequence[str] = (),
) -> Written:
    """Upsert ``rows`` and, with ``mark``, record the success of ``source`` (its watermark
    moves to ``through`` unless that is None; ``notes`` become its last note), all or
    nothing. File imports keep no watermark (``mark`` False)."""
    with wrap_errors(f"writing {source}"), conn.transaction():
        written = _merge(conn, rows) if rows else Written()
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
