"""SQL reads and writes of the recommendation job (queries in sql/queries/recommend.sql).

Recommendations go in and come out as ``records.Recommendation``; the JSON columns are
written from and read into its typed parts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from jobs.collect.records import Purchase
from jobs.db import wrap_errors
from jobs.errors import AmbiguousId, RecommendationNotFound
from jobs.model import AGGREGATION
from jobs.queries import query
from jobs.recommend.advice import Priority
from jobs.recommend.cases import SeriesKey
from jobs.recommend.lifecycle import Dismissal, HistoryEntry, Status
from jobs.recommend.records import AwaitingBill, Evidence, Recommendation

# A prefix shorter than this is refused: it would too often name several recommendations.
MIN_PREFIX = 4


def _aggregation_params() -> dict[str, list[str]]:
    return {
        "level_metrics": [m for m, a in AGGREGATION.items() if a.over_time == "last"],
        "max_metrics": [m for m, a in AGGREGATION.items() if a.across_sources == "max"],
    }


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("recommend", name), params).fetchall()


def daily_series(
    conn: psycopg.Connection, since: datetime, until: datetime, *, as_of: datetime
) -> dict[SeriesKey, list[tuple[date, float]]]:
    """Per series, (day, value) for every day with data in [since, until), oldest first,
    from the windows that ended by ``as_of``."""
    params = {"since": since, "until": until, "as_of": as_of} | _aggregation_params()
    with wrap_errors("reading daily usage"):
        rows = _rows(conn, "daily_series", params)
    series: dict[SeriesKey, list[tuple[date, float]]] = defaultdict(list)
    for row in rows:
        series[(row["service"], row["metric_type"])].append(
            (row["day"].date(), float(row["value"]))
        )
    return dict(series)


def period_points(
    conn: psycopg.Connection, start: datetime, end: datetime, *, as_of: datetime
) -> dict[SeriesKey, list[tuple[datetime, float]]]:
    """Per series, the evaluation points of the period (usage so far, or the level), from
    the windows that ended by ``as_of``."""
    params = {"period_start": start, "period_end": end, "as_of": as_of} | _aggregation_params()
    with wrap_errors("reading this period's usage"):
        rows = _rows(conn, "period_points", params)
    return {
        (row["service"], row["metric_type"]): list(zip(row["times"], row["values"], strict=True))
        for row in rows
    }


def upsert_assessment(conn: psycopg.Connection, values: dict[str, Any]) -> None:
    with wrap_errors("saving an assessment"):
        conn.execute(
            query("recommend", "upsert_assessment"),
            values | {"backtest": Jsonb(values["backtest"])},
        )


@dataclass(frozen=True)
class OpenRecommendation:
    id: str
    status: Status
    priority: Priority


def open_recommendation(
    conn: psycopg.Connection, account: str, plan: str
) -> OpenRecommendation | None:
    """The open recommendation for this advice, locked for the rest of the transaction."""
    rows = _rows(conn, "open_recommendation", {"account": account, "plan": plan})
    if not rows:
        return None
    row = rows[0]
    return OpenRecommendation(row["id"], Status(row["status"]), Priority(row["priority"]))


def last_dismissal(
    conn: psycopg.Connection, account: str, plan: str, services: list[str]
) -> Dismissal | None:
    """The newest dismissal of the account's advice to move to ``plan``, or of the
    per-service advice (rows from before accounts) for one of its ``services``."""
    params = {"account": account, "plan": plan, "services": services}
    rows = _rows(conn, "last_dismissal", params)
    if not rows:
        return None
    return Dismissal(rows[0]["dismissed_at"], Priority(rows[0]["priority"]))


def _values(rec: Recommendation) -> dict[str, Any]:
    return {
        "id": rec.id,
        "account": rec.account,
        "service": rec.service,
        "current_plan": rec.current_plan,
        "recommended_plan": rec.recommended_plan,
        "priority": rec.priority.value,
        "title": rec.title,
        "reasoning": rec.reasoning,
        "current_usage": Jsonb(rec.current_usage),
        "projected_usage": Jsonb(rec.projected_usage),
        "breach_at": rec.breach_at,
        "current_cost": rec.current_cost,
        "projected_cost": rec.projected_cost,
        "upgraded_cost": rec.upgraded_cost,
        "overage_avoided": rec.overage_avoided,
        "revenue_at_risk": rec.revenue_at_risk,
        "roi": rec.roi,
        "payback_days": rec.payback_days,
        "confidence": rec.confidence,
        "evidence": Jsonb(rec.evidence.to_json() if rec.evidence else rec.raw_evidence),
        "expires_at": rec.expires_at,
        "now": rec.last_seen_at,
    }


def insert_recommendation(conn: psycopg.Connection, rec: Recommendation) -> str:
    with conn.cursor() as cur:
        row = cur.execute(query("recommend", "insert_recommendation"), _values(rec)).fetchone()
    assert row is not None
    return str(row[0])


def refresh_recommendation(conn: psycopg.Connection, rec: Recommendation) -> None:
    conn.execute(query("recommend", "refresh_recommendation"), _values(rec))


@dataclass(frozen=True)
class OpenState:
    id: str
    account: str | None
    service: str
    recommended_plan: str
    status: Status
    last_seen_at: datetime | None
    expires_at: datetime | None


def open_recommendations(conn: psycopg.Connection) -> list[OpenState]:
    return [
        OpenState(
            r["id"],
            r["account"],
            r["service"],
            r["recommended_plan"],
            Status(r["status"]),
            r["last_seen_at"],
            r["expires_at"],
        )
        for r in _rows(conn, "open_recommendations", {})
    ]


def recent_purchases(
    conn: psycopg.Connection, since: datetime, *, as_of: datetime
) -> list[Purchase]:
    """The FOCUS purchase lines whose charge period ends after ``since`` and had begun by
    ``as_of``, newest first."""
    with wrap_errors("reading purchases"), conn.cursor(row_factory=dict_row) as cur:
        params = {"since": since, "as_of": as_of}
        rows = cur.execute(query("money", "recent_purchases"), params).fetchall()
    return [
        Purchase(
            r["provider"],
            r["service_name"],
            r["start"],
            r["end"],
            float(r["billed_cost"]),
            float(r["effective_cost"]),
        )
        for r in rows
    ]


def await_bill(conn: psycopg.Connection, recommendation_id: str, note: str) -> None:
    """Note on an open recommendation that it waits for the bill to show its plan."""
    conn.execute(query("recommend", "await_bill"), {"id": recommendation_id, "note": note})


def awaiting_bill(conn: psycopg.Connection) -> list[AwaitingBill]:
    """The open recommendations waiting for the bill to show their plan, oldest first."""
    with wrap_errors("reading recommendations"):
        rows = _rows(conn, "awaiting_bill", {})
    return [
        AwaitingBill(r["id"], r["account"], r["recommended_plan"], Status(r["status"]), r["note"])
        for r in rows
    ]


def resolve_id(conn: psycopg.Connection, given: str) -> str:
    """The full id ``given`` names: itself, or the one id it is a prefix of (at least
    MIN_PREFIX characters); RecommendationNotFound or AmbiguousId otherwise."""
    given = given.strip()
    with wrap_errors("finding a recommendation"):
        ids = [r["id"] for r in _rows(conn, "resolve_id", {"id": given})]
    if ids and ids[0] == given:
        return given
    if len(ids) == 1 and len(given) >= MIN_PREFIX:
        return str(ids[0])
    if len(ids) > 1:
        shown = ", ".join(i[:12] for i in ids)
        raise AmbiguousId(
            f"id {given!r} matches several recommendations ({shown}): give more of it"
        )
    hint = (
        f" (a short id needs at least {MIN_PREFIX} characters)" if len(given) < MIN_PREFIX else ""
    )
    raise RecommendationNotFound(f"no recommendation with id {given!r}{hint}")


def current_status(conn: psycopg.Connection, recommendation_id: str) -> Status:
    """The recommendation's status, locked for the rest of the transaction."""
    rows = _rows(conn, "recommendation_for_update", {"id": recommendation_id})
    if not rows:
        raise RecommendationNotFound(f"no recommendation with id {recommendation_id!r}")
    return Status(rows[0]["status"])


def record_transition(
    conn: psycopg.Connection, recommendation_id: str, entry: HistoryEntry
) -> None:
    conn.execute(
        query("recommend", "set_status"),
        {
            "id": recommendation_id,
            "status": entry.to_status.value,
            "entry": Jsonb(entry.to_json()),
            "by": entry.by,
            "at": entry.at,
        },
    )


def _record(row: dict[str, Any]) -> Recommendation:
    raw = row["evidence"] or {}
    return Recommendation(
        id=row["id"],
        account=row["account"],
        service=row["service"],
        current_plan=row["current_plan"],
        recommended_plan=row["recommended_plan"],
        priority=Priority(row["priority"]),
        status=Status(row["status"]),
        title=row["title"],
        reasoning=row["reasoning"],
        current_usage=row["current_usage"],
        projected_usage=row["projected_usage"],
        breach_at=row["breach_at"],
        current_cost=row["current_cost"],
        projected_cost=row["projected_cost"],
        upgraded_cost=row["upgraded_cost"],
        overage_avoided=row["overage_avoided"],
        revenue_at_risk=row["revenue_at_risk"],
        roi=row["roi"],
        payback_days=row["payback_days"],
        confidence=row["confidence"],
        evidence=Evidence.from_json(raw),
        review_history=tuple(HistoryEntry.from_json(h) for h in row["review_history"]),
        expires_at=row["expires_at"],
        last_seen_at=row["last_seen_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        raw_evidence=raw,
        awaiting_bill=raw.get("awaitingBill"),
    )


def list_recommendations(
    conn: psycopg.Connection, statuses: list[str], *, as_of: datetime | None = None
) -> list[Recommendation]:
    """The recommendations with one of ``statuses``; with ``as_of``, as they stood then
    (created by then, their status and review history as of then)."""
    with wrap_errors("listing recommendations"):
        params = {"statuses": statuses, "id": None, "as_of": as_of}
        rows = _rows(conn, "recommendations", params)
    return [_record(r) for r in rows]


def get_recommendation(conn: psycopg.Connection, given: str) -> Recommendation:
    """The recommendation a full or short id names."""
    recommendation_id = resolve_id(conn, given)
    with wrap_errors("reading a recommendation"):
        params: dict[str, Any] = {"statuses": [], "id": recommendation_id, "as_of": None}
        rows = _rows(conn, "recommendations", params)
    if not rows:
        raise RecommendationNotFound(f"no recommendation with id {given!r}")
    return _record(rows[0])
