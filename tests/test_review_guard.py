"""The review history guard (sql/deploy/guard_review_history.sql), as the jobs role.

The review commands run as the jobs role, so it may UPDATE a recommendation's status and
history; the database keeps that history append-only and the status changes to the ones
the lifecycle (jobs/recommend/lifecycle.py) allows, whatever statement the role sends.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from jobs.recommend import store
from jobs.recommend.lifecycle import ALLOWED, HistoryEntry, Status, transition
from tests.support.roles_db import RoleDatabase, provisioned

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def guarded(pg_admin_dsn: str) -> Iterator[RoleDatabase]:
    with provisioned(pg_admin_dsn) as db:
        yield db


def entry(old: Status, new: Status, by: str = "alice") -> dict[str, Any]:
    return HistoryEntry(AT, by, old, new, None, None).to_json()


def owner_row(db: RoleDatabase, status: Status, history: list[dict[str, Any]]) -> str:
    """A recommendation written by the owner (which the guard does not hold), with a target
    plan of its own (one open recommendation per service and plan)."""
    with psycopg.connect(db.owner_dsn) as conn:
        row = conn.execute(
            """INSERT INTO "UpgradeRecommendation" (service, "currentPlan", "recommendedPlan",
                   status, title, reasoning, "reviewHistory", "reviewedBy", "reviewedAt")
               VALUES ('VERCEL_BANDWIDTH', 'hobby', %s, %s, 't', 'r', %s, %s, %s)
               RETURNING id""",
            [
                f"pro-{uuid.uuid4().hex}",
                status.value,
                Jsonb(history),
                "alice" if history else None,
                AT if history else None,
            ],
        ).fetchone()
    assert row is not None
    return str(row[0])


def as_jobs(db: RoleDatabase, statement: str, params: dict[str, Any]) -> None:
    with psycopg.connect(db.jobs_dsn) as conn:
        conn.execute(statement, params)


SET_STATUS = """UPDATE "UpgradeRecommendation"
    SET status = %(to)s, "reviewHistory" = "reviewHistory" || %(entry)s,
        "reviewedBy" = %(by)s, "reviewedAt" = %(at)s
    WHERE id = %(id)s"""


@pytest.mark.parametrize(
    ("old", "new"), [(a, b) for a, b in itertools.product(Status, Status) if a != b]
)
def test_the_database_allows_exactly_the_lifecycle_transitions(
    guarded: RoleDatabase, old: Status, new: Status
) -> None:
    rec = owner_row(guarded, old, [])
    params = {"to": new.value, "entry": Jsonb([entry(old, new)]), "by": "alice", "at": AT}
    if new in ALLOWED[old]:
        as_jobs(guarded, SET_STATUS, params | {"id": rec})
    else:
        with pytest.raises(psycopg.errors.CheckViolation, match="cannot become"):
            as_jobs(guarded, SET_STATUS, params | {"id": rec})


def test_the_review_commands_path_records_transitions(guarded: RoleDatabase) -> None:
    rec = owner_row(guarded, Status.PENDING, [])
    with psycopg.connect(guarded.jobs_dsn) as conn:
        for wanted in (Status.REVIEWED, Status.APPROVED, Status.IMPLEMENTED):
            current = store.current_status(conn, rec)
            store.record_transition(conn, rec, transition(current, wanted, by="bob", at=AT))
        conn.commit()
        row = conn.execute(
            'SELECT status::text, jsonb_array_length("reviewHistory") FROM '
            '"UpgradeRecommendation" WHERE id = %s',
            [rec],
        ).fetchone()
    assert row == ("IMPLEMENTED", 3)


HISTORY = [entry(Status.PENDING, Status.REVIEWED), entry(Status.REVIEWED, Status.APPROVED)]

REFUSED = {
    # id: (statement, parameters, what the refusal says)
    "erase the history": (
        """UPDATE "UpgradeRecommendation" SET "reviewHistory" = '[]' WHERE id = %(id)s""",
        {},
        "append-only",
    ),
    "rewrite an entry": (
        """UPDATE "UpgradeRecommendation"
           SET "reviewHistory" = jsonb_set("reviewHistory", '{0,by}', '"mallory"')
           WHERE id = %(id)s""",
        {},
        "append-only",
    ),
    "prepend an entry": (
        """UPDATE "UpgradeRecommendation" SET "reviewHistory" = %(entry)s || "reviewHistory"
           WHERE id = %(id)s""",
        {"entry": Jsonb([entry(Status.PENDING, Status.PENDING)])},
        "append-only",
    ),
    "reopen it": (
        SET_STATUS,
        {"to": "PENDING", "entry": Jsonb([entry(Status.APPROVED, Status.PENDING)])},
        "cannot become",
    ),
    "change status without an entry": (
        """UPDATE "UpgradeRecommendation" SET status = 'DISMISSED', "reviewedBy" = 'mallory',
           "reviewedAt" = %(at)s WHERE id = %(id)s""",
        {},
        "appends one review entry",
    ),
    "an entry that lies about its from": (
        SET_STATUS,
        {"to": "DISMISSED", "entry": Jsonb([entry(Status.PENDING, Status.DISMISSED)])},
        "appends one review entry",
    ),
    "an entry by someone else": (
        SET_STATUS,
        {"to": "DISMISSED", "entry": Jsonb([entry(Status.APPROVED, Status.DISMISSED, "bob")])},
        "appends one review entry",
    ),
    "two entries for one change": (
        SET_STATUS,
        {
            "to": "DISMISSED",
            "entry": Jsonb([entry(Status.APPROVED, Status.DISMISSED)] * 2),
        },
        "appends one review entry",
    ),
    "an entry without a status change": (
        """UPDATE "UpgradeRecommendation" SET "reviewHistory" = "reviewHistory" || %(entry)s
           WHERE id = %(id)s""",
        {"entry": Jsonb([entry(Status.APPROVED, Status.APPROVED)])},
        "comes with a status change",
    ),
    "sign as another reviewer": (
        """UPDATE "UpgradeRecommendation" SET "reviewedBy" = 'mallory' WHERE id = %(id)s""",
        {},
        "comes with a status change",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_jobs_role_cannot_rewrite_review_history(guarded: RoleDatabase, case: str) -> None:
    statement, params, message = REFUSED[case]
    rec = owner_row(guarded, Status.APPROVED, HISTORY)
    defaults = {"id": rec, "by": "alice", "at": AT}
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        as_jobs(guarded, statement, defaults | params)
    with psycopg.connect(guarded.owner_dsn) as conn:
        row = conn.execute(
            'SELECT status::text, "reviewHistory", "reviewedBy" FROM "UpgradeRecommendation" '
            "WHERE id = %s",
            [rec],
        ).fetchone()
    assert row == ("APPROVED", HISTORY, "alice")


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "APPROVED"), ("reviewHistory", Jsonb(HISTORY)), ("reviewedBy", "mallory")],
)
def test_a_new_recommendation_starts_pending_without_history(
    guarded: RoleDatabase, column: str, value: Any
) -> None:
    insert = f"""INSERT INTO "UpgradeRecommendation" (service, "currentPlan",
        "recommendedPlan", title, reasoning, "{column}")
        VALUES ('VERCEL_BLOB', 'hobby', 'pro', 't', 'r', %(value)s)"""
    with pytest.raises(psycopg.errors.CheckViolation, match="starts PENDING"):
        as_jobs(guarded, insert, {"value": value})


def test_other_columns_stay_writable(guarded: RoleDatabase) -> None:
    """The jobs' own refreshes (numbers, evidence, lastSeenAt) pass the guard."""
    rec = owner_row(guarded, Status.REVIEWED, HISTORY[:1])
    as_jobs(
        guarded,
        """UPDATE "UpgradeRecommendation" SET title = 'new', evidence = '{"a": 1}',
           "lastSeenAt" = %(at)s WHERE id = %(id)s""",
        {"id": rec, "at": AT},
    )
