"""The notification log (``NotificationLog``), SQL in sql/queries/notify.sql.

Each function is one short transaction of its own, committed before anything is sent:
the plan (under an advisory lock), the claim of one message, the outcome of one attempt.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from jobs.db import wrap_errors
from jobs.notify.plan import LastSaid, Planned
from jobs.notify.render import Item, Message
from jobs.queries import query

LOCK_KEY = "infra-monitoring:notify"


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("notify", name), params).fetchall()


def lock(conn: psycopg.Connection) -> None:
    """Serialise planning with other runs until this transaction ends."""
    conn.execute(query("notify", "lock"), {"key": LOCK_KEY})


def last_said(conn: psycopg.Connection) -> dict[tuple[str, str], LastSaid]:
    with wrap_errors("reading the notification log"):
        rows = _rows(conn, "last_said", {})
    return {(r["receiver"], r["fingerprint"]): LastSaid(**r) for r in rows}


def record(conn: psycopg.Connection, planned: Sequence[Planned], now: datetime) -> None:
    """Insert the planned notifications; one already recorded (same key) stays as it is."""
    with wrap_errors("recording notifications"), conn.cursor() as cur:
        cur.executemany(
            query("notify", "insert_planned"),
            [
                {
                    "receiver": p.receiver,
                    "group": p.group,
                    "fingerprint": p.fingerprint,
                    "dedup_key": p.dedup_key,
                    "kind": p.kind,
                    "severity": p.severity,
                    "state": p.state,
                    "digest": p.digest,
                    "resolved": p.resolved,
                    "title": p.title,
                    "body": p.body,
                    "labels": Jsonb(dict(p.labels)),
                    "now": now,
                }
                for p in planned
            ],
        )


def message_key(receiver: str, group: str, dedup_keys: Sequence[str]) -> str:
    text = "\n".join([receiver, group, *sorted(dedup_keys)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def assign_messages(conn: psycopg.Connection, one_per_item: set[str]) -> None:
    """Put new notifications into messages: one per receiver and group, or one per
    notification for the receivers in ``one_per_item`` (issues). Fixed from now on."""
    with wrap_errors("grouping notifications"):
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in _rows(conn, "unassigned", {}):
            if row["receiver"] in one_per_item:
                groups[(row["receiver"], row["dedup_key"])].append(row)
            else:
                groups[(row["receiver"], row["group"])].append(row)
        for (receiver, group), rows in groups.items():
            key = message_key(receiver, group, [r["dedup_key"] for r in rows])
            conn.execute(
                query("notify", "assign_message"),
                {"message_key": key, "ids": [r["id"] for r in rows]},
            )


@dataclass(frozen=True)
class Due:
    message_key: str
    receiver: str


def due(conn: psycopg.Connection, now: datetime) -> list[Due]:
    with wrap_errors("reading notifications to deliver"):
        return [
            Due(r["message_key"], r["receiver"]) for r in _rows(conn, "due_messages", {"now": now})
        ]


@dataclass(frozen=True)
class Claim:
    message: Message
    lease_until: datetime
    attempts: int


def claim(
    conn: psycopg.Connection, due_message: Due, now: datetime, lease_until: datetime
) -> Claim | None:
    """Take the message for this run (committed), or None when another run has it."""
    with wrap_errors("claiming a notification"), conn.transaction():
        rows = _rows(
            conn,
            "claim",
            {"message_key": due_message.message_key, "now": now, "lease_until": lease_until},
        )
    if not rows:
        return None
    items = tuple(
        Item(
            fingerprint=r["fingerprint"],
            dedup_key=r["dedup_key"],
            kind=r["kind"],
            severity=r["severity"],
            state=r["state"],
            resolved=r["resolved"],
            title=r["title"],
            body=r["body"],
            labels=dict(r["labels"]),
        )
        for r in rows
    )
    attempts = max(r["attempts"] for r in rows)
    # As stored (milliseconds): the token ``finish`` matches the claim by.
    stored_lease = rows[0]["lease_until"]
    message = Message(
        due_message.receiver, rows[0]["group"], due_message.message_key, items, attempts > 1
    )
    return Claim(message, stored_lease, attempts)


def finish(
    conn: psycopg.Connection,
    claimed: Claim,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    with wrap_errors("recording a delivery"), conn.transaction():
        conn.execute(
            query("notify", "finish"),
            {
                "message_key": claimed.message.key,
                "status": status,
                "error": error,
                "retry_at": retry_at,
                "now": now,
                "lease_until": claimed.lease_until,
            },
        )


def recommendation_ids(conn: psycopg.Connection, since: datetime) -> list[str]:
    with wrap_errors("listing recommendations to tell"):
        return [r["id"] for r in _rows(conn, "recommendations_to_tell", {"since": since})]
