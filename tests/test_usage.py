"""Usage per billing period, aggregated as limits are billed, from real rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from jobs.periods import local_date
from jobs.recommend.evaluation import State, classify
from jobs.usage import BillingPeriod, period_usage


def test_billing_period_is_the_los_angeles_calendar_month() -> None:
    # Vercel bills Pacific months: December runs from 08:00 UTC (PST) on the 1st.
    period = BillingPeriod.containing(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert (period.start, period.end) == (datetime(2026, 12, 1, 8), datetime(2027, 1, 1, 8))
    # 2027-01-01 05:00 UTC is still New Year's Eve in Los Angeles.
    assert BillingPeriod.containing(datetime(2027, 1, 1, 5)) == period
    summer = BillingPeriod.containing(datetime(2026, 7, 10))
    assert (summer.start, summer.end) == (datetime(2026, 7, 1, 7), datetime(2026, 8, 1, 7))


@pytest.mark.parametrize(
    ("start", "end", "month"),
    [
        (datetime(2026, 12, 1, 8), datetime(2026, 12, 2, 8), 12),  # Vercel's first day
        (datetime(2026, 11, 30, 8), datetime(2026, 12, 1, 8), 11),  # Vercel's last day
        (datetime(2026, 12, 1), datetime(2026, 12, 2), 12),  # a UTC day (Neon, Upstash)
        (datetime(2026, 11, 30), datetime(2026, 12, 1), 11),
        (datetime(2026, 12, 1, 3), datetime(2026, 12, 1, 4), 11),  # 19:00 PST on Nov 30
    ],
)
def test_a_window_belongs_to_the_period_holding_its_midpoint(
    start: datetime, end: datetime, month: int
) -> None:
    period = BillingPeriod.of_window(start, end)
    assert local_date(period.start).month == month
    assert period.holds(start, end)


def test_status_recommend_and_report_read_the_same_windows_as_the_rule(migrated_db: str) -> None:
    # The SQL that selects a period's windows spells the rule of BillingPeriod.holds.
    windows = [
        (datetime(2026, 12, 1, 8), datetime(2026, 12, 2, 8)),
        (datetime(2026, 11, 30, 8), datetime(2026, 12, 1, 8)),
        (datetime(2026, 12, 1), datetime(2026, 12, 2)),
        (datetime(2026, 11, 30), datetime(2026, 12, 1)),
        (datetime(2026, 12, 31, 8), datetime(2027, 1, 1, 8)),
        (datetime(2027, 1, 1), datetime(2027, 1, 2)),
    ]
    period = BillingPeriod.containing(datetime(2026, 12, 15))
    with psycopg.connect(migrated_db) as conn:
        for i, (start, end) in enumerate(windows):
            conn.execute(
                """INSERT INTO "InfrastructureMetric"
                   (service, "metricType", value, unit, "timestamp", "windowEnd", source)
                   VALUES ('VERCEL_FUNCTIONS', 'INVOCATIONS', %s, 'x', %s, %s, 'v')""",
                [2**i, start, end],
            )
        usage = period_usage(conn, period, as_of=period.end)
    expected = sum(2**i for i, w in enumerate(windows) if period.holds(*w))
    assert usage[("VERCEL_FUNCTIONS", "INVOCATIONS")].value == expected == 1 + 4 + 16


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


def test_a_utc_day_belongs_to_a_period_as_the_rule_says() -> None:
    # holds_day is holds for a daily series' UTC day, without the time-zone arithmetic.
    for period in (BillingPeriod.containing(datetime(2026, m, 15)) for m in (3, 10, 11, 12)):
        for offset in range(-3, 40):
            day = (period.start + timedelta(days=offset)).date()
            start = datetime.combine(day, datetime.min.time())
            assert period.holds_day(day) == period.holds(start, start + timedelta(days=1))
