"""What ``status`` looks at, read from the database. Every section is read in its own
transaction: a section whose table is missing or unreadable is reported as such, and the
others are still checked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TypeVar

import psycopg
from psycopg.rows import dict_row

from jobs import assessments
from jobs.db import wrap_errors
from jobs.errors import DatabaseError, DatabaseUnavailable, SchemaError
from jobs.limits import store as limits_store
from jobs.limits.changes import Action, compare
from jobs.limits.model import LimitsFile, key_label
from jobs.queries import query
from jobs.recommend import money
from jobs.recommend import store as recommend_store
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN
from jobs.status.checks import (
    NOTIFICATIONS_WINDOW,
    Delivery,
    Findings,
    LimitsState,
    NotificationsState,
    ObjectState,
    RoleDefaults,
    RunState,
    SourceState,
    Unavailable,
)
from jobs.usage import BillingPeriod

T = TypeVar("T")


def check_object(conn: psycopg.Connection, spec: migrate.ObjectSpec) -> ObjectState:
    """Compare one object with its definition, with the same code `schema up` plans with."""
    try:
        planned = migrate.plan(conn, spec)
    except SchemaError as exc:  # the name is taken by another kind of object
        return ObjectState(spec.name, str(spec.kind), exists=True, error=str(exc))
    return ObjectState(
        spec.name,
        str(spec.kind),
        exists=planned.exists,
        changes=tuple(c.description for c in planned.changes),
    )


def _section(
    conn: psycopg.Connection, table: str, missing: Collection[str], read: Callable[[], T]
) -> T | Unavailable:
    if table in missing:
        return Unavailable(f'table "{table}" is missing', error=False)
    try:
        with conn.transaction():
            return read()
    except DatabaseUnavailable:
        raise
    except DatabaseError as exc:
        return Unavailable(str(exc), error=True)


def _limits(conn: psycopg.Connection, schema: str, limits: LimitsFile, name: str) -> LimitsState:
    table_rows = [stored.row for stored in limits_store.read_all(conn, schema)]
    changes = compare(limits.rows(), table_rows)

    def keys(action: Action) -> tuple[str, ...]:
        return tuple(key_label(c.key) for c in changes if c.action is action)

    return LimitsState(
        file=name,
        rows_by_plan=dict(sorted(Counter(row.plan for row in table_rows).items())),
        file_rows=len(limits.rows()),
        added=keys(Action.ADD),
        changed=keys(Action.CHANGE),
        removed=keys(Action.REMOVE),
    )


def sources(conn: psycopg.Connection, as_of: datetime) -> tuple[SourceState, ...]:
    with wrap_errors("reading CollectionWatermark"), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("status", "sources"), {"as_of": as_of}).fetchall()
    return tuple(SourceState(**row) for row in rows)


def _last_run(conn: psycopg.Connection, as_of: datetime) -> RunState | None:
    with wrap_errors("reading CollectionRun"), conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("status", "last_run"), {"as_of": as_of}).fetchone()
    return RunState(**row) if row else None


def _notifications(conn: psycopg.Connection, now: datetime) -> NotificationsState:
    since = now - NOTIFICATIONS_WINDOW
    with wrap_errors("reading NotificationLog"), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("notify", "delivery_health"), {"since": since}).fetchall()

    def deliveries(status: str) -> tuple[Delivery, ...]:
        return tuple(
            Delivery(r["receiver"], r["group"], r["attempts"], r["last_error"])
            for r in rows
            if r["status"] == status
        )

    sent = [r["sent_at"] for r in rows if r["status"] == "sent"]
    return NotificationsState(
        sent=len(sent),
        last_sent_at=max(sent) if sent else None,
        failing=deliveries("failed"),
        abandoned=deliveries("abandoned"),
    )


def gather(
    conn: psycopg.Connection,
    limits: LimitsFile,
    limits_name: str,
    now: datetime,
    schema: str = "public",
) -> Findings:
    objects = tuple(
        check_object(conn, migrate.ObjectSpec.from_plan(obj, schema)) for obj in SCHEMA_PLAN
    )
    missing = {o.name for o in objects if not o.exists}
    period = BillingPeriod.containing(now)
    return Findings(
        checked_at=now,
        period=period,
        objects=objects,
        limits=_section(
            conn,
            "InfrastructureLimit",
            missing,
            lambda: _limits(conn, schema, limits, limits_name),
        ),
        sources=_section(conn, "CollectionWatermark", missing, lambda: sources(conn, now)),
        last_run=_section(conn, "CollectionRun", missing, lambda: _last_run(conn, now)),
        assessments=_section(
            conn,
            "UsageAssessment",
            missing,
            lambda: tuple(assessments.read_period(conn, period, as_of=now)),
        ),
        notifications=_section(conn, "NotificationLog", missing, lambda: _notifications(conn, now)),
        money=_section(conn, "PlanPurchase", missing, lambda: money.read(conn, limits, now)),
        awaiting=_section(
            conn,
            "UpgradeRecommendation",
            missing,
            lambda: tuple(recommend_store.awaiting_bill(conn)),
        ),
        # Without merge_metrics (the schema check fails) no role runs the jobs yet.
        role_defaults=()
        if "merge_metrics" in missing
        else _section(conn, "merge_metrics", missing, lambda: _role_defaults(conn)),
    )


def _role_defaults(conn: psycopg.Connection) -> tuple[RoleDefaults, ...]:
    rows = conn.execute(query("status", "role_defaults")).fetchall()
    return tuple(RoleDefaults(role, tuple(settings)) for role, settings in rows if settings)
