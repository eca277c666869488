"""The rows of ``InfrastructureLimit``: read, write one, delete one, prune the unmanaged.

Used by the Pulumi provider (``infra/limits.py``) and ``python -m jobs limits diff``. Every
function is one transaction with the target schema on the search_path; queries live in
``sql/queries/limits.sql``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from jobs.db import wrap_errors
from jobs.limits.model import Key, LimitRow, key_label
from jobs.queries import query

LOCK_TIMEOUT = "15s"


@dataclass(frozen=True)
class StoredRow:
    id: str
    row: LimitRow
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


@contextlib.contextmanager
def _transaction(
    conn: psycopg.Connection, schema: str, action: str
) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
    with wrap_errors(action), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        yield cur


def _stored(record: dict[str, Any]) -> StoredRow:
    return StoredRow(
        id=record["id"],
        row=LimitRow.from_columns(record),
        created_at=record["createdAt"],
        updated_at=record["updatedAt"],
        updated_by=record["updatedBy"],
    )


def _params(row: LimitRow, actor: str) -> dict[str, Any]:
    return row.columns() | {"sourceDate": row.source_date, "updatedBy": actor}


def read_all(conn: psycopg.Connection, schema: str) -> list[StoredRow]:
    """Every row of the table, managed or not."""
    with _transaction(conn, schema, "reading limits") as cur:
        return [_stored(r) for r in cur.execute(query("limits", "rows")).fetchall()]


def read(conn: psycopg.Connection, schema: str, id_: str) -> StoredRow | None:
    with _transaction(conn, schema, "reading a limit") as cur:
        record = cur.execute(query("limits", "row"), {"id": id_}).fetchone()
    return _stored(record) if record else None


def upsert(
    conn: psycopg.Connection, schema: str, row: LimitRow, actor: str
) -> tuple[StoredRow, bool]:
    """Insert the row, or update the one with its key in place; returns (row, adopted)."""
    with _transaction(conn, schema, f"writing limit {key_label(row.key)}") as cur:
        written = cur.execute(query("limits", "upsert"), _params(row, actor)).fetchone()
        assert written is not None
        stored = cur.execute(query("limits", "row"), {"id": written["id"]}).fetchone()
    assert stored is not None
    return _stored(stored), bool(written["adopted"])


def update(
    conn: psycopg.Connection, schema: str, id_: str, row: LimitRow, actor: str
) -> StoredRow | None:
    """Update the row with this id in place; None when it no longer exists."""
    with _transaction(conn, schema, f"updating limit {key_label(row.key)}") as cur:
        params = _params(row, actor) | {"id": id_}
        if cur.execute(query("limits", "update"), params).fetchone() is None:
            return None
        stored = cur.execute(query("limits", "row"), {"id": id_}).fetchone()
    assert stored is not None
    return _stored(stored)


def delete(conn: psycopg.Connection, schema: str, id_: str) -> bool:
    """Delete the row with this id; False when it was already gone."""
    with _transaction(conn, schema, "deleting a limit") as cur:
        return cur.execute(query("limits", "delete"), {"id": id_}).rowcount > 0


def _key_arrays(keys: Iterable[Key]) -> dict[str, list[str]]:
    services, metrics, plans = [], [], []
    for service, metric, plan in keys:
        services.append(service)
        metrics.append(metric)
        plans.append(plan)
    return {"services": services, "metrics": metrics, "plans": plans}


def _table_exists(cur: psycopg.Cursor[dict[str, Any]]) -> bool:
    present = cur.execute(query("limits", "table_exists")).fetchone()
    return bool(present and present["present"])


def table_exists(conn: psycopg.Connection, schema: str) -> bool:
    with _transaction(conn, schema, "looking for the limits table") as cur:
        return _table_exists(cur)


def unmanaged(conn: psycopg.Connection, schema: str, keys: Iterable[Key]) -> list[Key]:
    """Keys of rows that are not among ``keys``; none when the table does not exist yet."""
    with _transaction(conn, schema, "looking for unmanaged limits") as cur:
        if not _table_exists(cur):
            return []
        found = cur.execute(query("limits", "unmanaged"), _key_arrays(keys)).fetchall()
    return [(r["service"], r["metricType"], r["plan"]) for r in found]


def prune(conn: psycopg.Connection, schema: str, keys: Iterable[Key]) -> list[Key]:
    """Delete every row whose key is not among ``keys``; returns the deleted keys."""
    with _transaction(conn, schema, "deleting unmanaged limits") as cur:
        deleted = cur.execute(query("limits", "prune"), _key_arrays(keys)).fetchall()
    return sorted((r["service"], r["metricType"], r["plan"]) for r in deleted)
