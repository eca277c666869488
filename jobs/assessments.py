"""Read back what `python -m jobs recommend` stored in ``UsageAssessment`` (state and
forecast per service x metric and billing period), for ``status`` and ``report``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from jobs.db import wrap_errors
from jobs.queries import query
from jobs.recommend.evaluation import State
from jobs.usage import BillingPeriod


@dataclass(frozen=True)
class StoredAssessment:
    service: str
    metric_type: str
    plan: str
    limit: float
    unit: str
    state: State
    state_since: datetime | None
    pending_state: str | None
    usage: float | None
    utilisation: float | None
    data_through: datetime | None
    method: str | None
    forecast_mean: float | None
    forecast_lower: float | None
    forecast_upper: float | None
    breach_at: datetime | None
    breach_at_upper: datetime | None
    band_text: str | None  # the band's basis and measured coverage, in words
    points: int
    evaluated_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.metric_type)


def read_period(
    conn: psycopg.Connection, period: BillingPeriod, *, as_of: datetime
) -> list[StoredAssessment]:
    """Every assessment of ``period`` made by ``as_of``, by service and metric."""
    params = {"period_start": period.start, "as_of": as_of}
    with wrap_errors("reading usage assessments"), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("assessments", "period_assessments"), params).fetchall()
    return [
        StoredAssessment(
            service=r["service"],
            metric_type=r["metric_type"],
            plan=r["plan"],
            limit=float(r["limit_value"]),
            unit=r["unit"],
            state=State(r["state"]),
            state_since=r["state_since"],
            pending_state=r["pending_state"],
            usage=r["usage"],
            utilisation=r["utilisation"],
            data_through=r["data_through"],
            method=r["method"],
            forecast_mean=r["forecast_mean"],
            forecast_lower=r["forecast_lower"],
            forecast_upper=r["forecast_upper"],
            breach_at=r["breach_at"],
            breach_at_upper=r["breach_at_upper"],
            band_text=r["band_text"],
            points=int(r["points"]),
            evaluated_at=r["evaluated_at"],
        )
        for r in rows
    ]
