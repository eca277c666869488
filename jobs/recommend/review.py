"""Status changes made by people: review, approve, dismiss, implement."""

from __future__ import annotations

from datetime import datetime

import psycopg

from jobs.db import wrap_errors
from jobs.recommend import store
from jobs.recommend.lifecycle import ACTIONS, HistoryEntry, require_actor, transition


def change_status(
    conn: psycopg.Connection,
    recommendation_id: str,
    action: str,
    *,
    by: str,
    now: datetime,
    note: str | None = None,
    reason: str | None = None,
) -> tuple[str, HistoryEntry]:
    """Apply ``action`` in one transaction; illegal transitions change nothing.
    ``recommendation_id`` may be a short id (the start of one)."""
    require_actor(by, f"recommendation {recommendation_id}")
    recommendation_id = store.resolve_id(conn, recommendation_id)
    with wrap_errors(f"{action} recommendation {recommendation_id}"), conn.transaction():
        current = store.current_status(conn, recommendation_id)
        entry = transition(
            current,
            ACTIONS[action],
            by=by,
            at=now,
            note=note,
            reason=reason,
            what=f"recommendation {recommendation_id}",
        )
        store.record_transition(conn, recommendation_id, entry)
    return recommendation_id, entry
