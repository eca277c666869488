"""Usage per billing period, aggregated as limits are billed, from real rows."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from jobs.recommend.evaluation import State, classify
from jobs.usage import BillingPeriod, period_usage


def test_billing_period_is_the_utc_calendar_month() -> None:
    period = BillingPeriod.containing(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert (period.start, period.end) == (datetime(2026, 12, 1), datetime(2027, 1, 1))


def insert(
    conn: psycopg.Connection,
    service: str,
    metric: str,
    source: str,
    day: int,
    value: float,
    month: int = 11,
) -> None:
    conn.execute(
        """INSERT INTO "InfrastructureMetric"
           (service, "metricType", value, unit, "timestamp", "windowEnd", source)
           VALUES (%s, %s, %s, 'x', %s, %s, %s)""",
        [
            service,
            metric,
            value,
            datetime(2026, month, day),
            datetime(2026, month, day + 1),
            source,
        ],
    )


def test_period_usage_sums_amounts_and_takes_the_latest_level(migrated_db: str) -> None:
    with psycopg.connect(migrated_db) as conn:
        insert(conn, "VERCEL_FUNCTIONS", "INVOCATIONS", "vercel", 2, 100)
        insert(conn, "VERCEL_FUNCTIONS", "INVOCATIONS", "vercel", 3, 50)
        insert(conn, "VERCEL_KV", "STORAGE_MB", "upstash:a", 2, 10)
        insert(conn, "VERCEL_KV", "STORAGE_MB", "upstash:a", 3, 12)  # latest of a
        insert(conn, "VERCEL_KV", "STORAGE_MB", "upstash:b", 2, 5)  # latest of b
        insert(conn, "VERCEL_KV", "LATENCY_MS", "upstash:a", 3, 4)
        insert(conn, "VERCEL_KV", "LATENCY_MS", "upstash:b", 3, 9)
        insert(conn, "VERCEL_FUNCTIONS", "INVOCATIONS", "vercel", 30, 999, month=10)  # last month
        usage = period_usage(
            conn, BillingPeriod.containing(datetime(2026, 11, 20)), as_of=datetime(2026, 12, 1)
        )
    assert usage[("VERCEL_FUNCTIONS", "INVOCATIONS")].value == 150
    assert usage[("VERCEL_KV", "STORAGE_MB")].value == 17
    assert usage[("VERCEL_KV", "STORAGE_MB")].sources == 2
    assert usage[("VERCEL_KV", "LATENCY_MS")].value == 9
    assert usage[("VERCEL_FUNCTIONS", "INVOCATIONS")].through == datetime(2026, 11, 4)


@pytest.mark.parametrize(
    ("usage", "state"),
    [
        (None, State.NO_DATA),
        (0, State.OK),
        (74.9, State.OK),
        (75, State.WARNING),
        (90, State.CRITICAL),
        (150, State.CRITICAL),
    ],
)
def test_classify_against_fractions_of_the_limit(usage: float | None, state: State) -> None:
    assert classify(usage, 100, 0.75, 0.9) is state
