"""SQL reads and writes of the recommendation job (queries in sql/queries/recommend.sql)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from jobs.db import wrap_errors
from jobs.errors import MonitoringError
from jobs.model import AGGREGATION
from jobs.queries import query
from jobs.recommend.advice import Priority
from jobs.recommend.lifecycle import Dismissal, HistoryEntry, Status

SeriesKey = tuple[str, str]  # (service, metric type)


class RecommendationNotFound(MonitoringError):
    """No recommendation has this id."""


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
    conn: psycopg.Connection, service: str, plan: str
) -> OpenRecommendation | None:
    """The open recommendation for this advice, locked for the rest of the transaction."""
    rows = _rows(conn, "open_recommendation", {"service": service, "plan": plan})
    if not rows:
        return None
    row = rows[0]
    return OpenRecommendation(row["id"], Status(row["status"]), Priority(row["priority"]))


def last_dismissal(conn: psycopg.Connection, service: str, plan: str) -> Dismissal | None:
    rows = _rows(conn, "last_dismissal", {"service": service, "plan": plan})
    if not rows:
        return None
    return Dismissal(rows[0]["dismissed_at"], Priority(rows[0]["priority"]))


def _jsonb(values: dict[str, Any]) -> dict[str, Any]:
    return values | {
        key: Jsonb(values[key]) for key in ("current_usage", "projected_usage", "evidence")
    }


def insert_recommendation(conn: psycopg.Connection, values: dict[str, Any]) -> str:
    with conn.cursor() as cur:
        row = cur.execute(query("recommend", "insert_recommendation"), _jsonb(values)).fetchone()
    assert row is not None
    return str(row[0])


def refresh_recommendation(conn: psycopg.Connection, values: dict[str, Any]) -> None:
    conn.execute(query("recommend", "refresh_recommendation"), _jsonb(values))


@dataclass(frozen=True)
class OpenState:
    id: str
    service: str
    recommended_plan: str
    status: Status
    last_seen_at: datetime | None
    expires_at: datetime | None


def open_recommendations(conn: psycopg.Connection) -> list[OpenState]:
    return [
        OpenState(
            r["id"],
            r["service"],
            r["recommended_plan"],
            Status(r["status"]),
            r["last_seen_at"],
            r["expires_at"],
        )
        for r in _rows(conn, "open_recommendations", {})
    ]


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


def list_recommendations(conn: psycopg.Connection, statuses: list[str]) -> list[dict[str, Any]]:
    with wrap_errors("listing recommendations"):
        return _rows(conn, "list_recommendations", {"statuses": statuses})


def get_recommendation(conn: psycopg.Connection, recommendation_id: str) -> dict[str, Any]:
    with wrap_errors("reading a recommendation"):
        rows = _rows(conn, "get_recommendation", {"id": recommendation_id})
    if not rows:
        raise RecommendationNotFound(f"no recommendation with id {recommendation_id!r}")
    return rows[0]
