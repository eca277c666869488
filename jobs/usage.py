"""Read usage back from InfrastructureMetric, aggregated the way limits are billed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from jobs.db import wrap_errors
from jobs.model import AGGREGATION
from jobs.periods import BillingPeriod
from jobs.queries import query

__all__ = ["BillingPeriod", "PeriodUsage", "ProjectUsage", "period_usage", "project_usage"]


@dataclass(frozen=True)
class PeriodUsage:
    service: str
    metric_type: str
    value: float
    through: datetime  # end of the newest window counted
    sources: int


@dataclass(frozen=True)
class ProjectUsage:
    """One project's share of a service x metric this period."""

    service: str
    metric_type: str
    project: str  # FOCUS Tags.ProjectId (else its ProjectName); "" for usage of no project
    project_name: str | None  # FOCUS Tags.ProjectName, when the rows keep one
    value: float  # canonical unit; for COST_USD the EffectiveCost
    # Cumulative metrics: the rows' metadata.billedCost, else their value (for COST_USD the
    # billed cost, FOCUS BilledCost); None for a level.
    billed: float | None


def _read(
    conn: psycopg.Connection, period: BillingPeriod, as_of: datetime, *, by_project: bool
) -> list[dict[str, Any]]:
    params = {
        "period_start": period.start,
        "period_end": period.end,
        "as_of": as_of,
        "level_metrics": [m for m, a in AGGREGATION.items() if a.over_time == "last"],
        "max_metrics": [m for m, a in AGGREGATION.items() if a.across_sources == "max"],
        "by_project": by_project,
    }
    with wrap_errors("reading usage"), conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("usage", "period_usage"), params).fetchall()


def period_usage(
    conn: psycopg.Connection, period: BillingPeriod, *, as_of: datetime
) -> dict[tuple[str, str], PeriodUsage]:
    """Usage so far in ``period`` per (service, metric type), from the windows that ended
    by ``as_of``."""
    return {
        (r["service"], r["metric_type"]): PeriodUsage(
            r["service"], r["metric_type"], float(r["value"]), r["through"], int(r["sources"])
        )
        for r in _read(conn, period, as_of, by_project=False)
    }


def project_usage(
    conn: psycopg.Connection, period: BillingPeriod, *, as_of: datetime
) -> tuple[ProjectUsage, ...]:
    """Usage so far in ``period`` per service x metric type x project, added up as
    ``period_usage`` adds up the whole, from the windows that ended by ``as_of``."""
    return tuple(
        ProjectUsage(
            r["service"],
            r["metric_type"],
            r["project"],
            r["project_name"] or None,
            float(r["value"]),
            None if r["billed"] is None else float(r["billed"]),
        )
        for r in _read(conn, period, as_of, by_project=True)
    )
