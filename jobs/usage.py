"""Read usage back from InfrastructureMetric, aggregated the way limits are billed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from jobs.db import wrap_errors
from jobs.model import AGGREGATION
from jobs.periods import BillingPeriod
from jobs.queries import query

__all__ = ["BillingPeriod", "PeriodUsage", "period_usage"]


@dataclass(frozen=True)
class PeriodUsage:
    service: str
    metric_type: str
    value: float
    through: datetime  # end of the newest window counted
    sources: int


def period_usage(
    conn: psycopg.Connection, period: BillingPeriod, *, as_of: datetime
) -> dict[tuple[str, str], PeriodUsage]:
    """Usage so far in ``period`` per (service, metric type), from the windows that ended
    by ``as_of``."""
    params = {
        "period_start": period.start,
        "period_end": period.end,
        "as_of": as_of,
        "level_metrics": [m for m, a in AGGREGATION.items() if a.over_time == "last"],
        "max_metrics": [m for m, a in AGGREGATION.items() if a.across_sources == "max"],
    }
    with wrap_errors("reading usage"), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("usage", "period_usage"), params).fetchall()
    return {
        (r["service"], r["metric_type"]): PeriodUsage(
            r["service"], r["metric_type"], float(r["value"]), r["through"], int(r["sources"])
        )
        for r in rows
    }
