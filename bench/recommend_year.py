"""The whole `recommend` run over a year of 15-minute data versus one aggregating SQL scan.

60 series (service x metric), one row per 15 minutes for 365 days: 2,102,400 rows. The
baseline is a single `SELECT … GROUP BY service, metric, day` over every row, the least
any job reading this data must do. The recommend run (jobs.recommend.engine.run) reads
the same year (lookback 365 days), evaluates the period's points, forecasts with
backtests, writes assessments and keeps recommendations. Target: at most 3x the scan.
Both are measured in the same run, interleaved, on the same database.

    python bench/recommend_year.py [REPEATS]
"""

from __future__ import annotations

import itertools
import math
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from _support import database, machine, median

from jobs.limits.loader import load
from jobs.model import METRIC_TYPES, SERVICES, canonical_unit
from jobs.recommend import engine
from jobs.recommend.assess import Settings
from jobs.recommend.cases import account_cases

SERIES = list(itertools.islice(itertools.product(SERVICES, METRIC_TYPES), 60))
START = datetime(2025, 11, 26)
STEP = timedelta(minutes=15)
WINDOWS = 365 * 96
NOW = START + timedelta(days=365)

SCAN = """
SELECT service, "metricType", date_trunc('day', "timestamp") AS day, sum(value), count(*)
FROM "InfrastructureMetric"
GROUP BY service, "metricType", date_trunc('day', "timestamp")
"""

COPY = (
    'COPY "InfrastructureMetric" (service, "metricType", value, unit, "timestamp", '
    '"windowEnd", source) FROM STDIN'
)


def fill(dsn: str) -> int:
    """A year of 15-minute windows per series: growth, a weekly rhythm and some noise."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(COPY) as copy:
        for n, (service, metric) in enumerate(SERIES):
            unit = canonical_unit(metric)
            for i in range(WINDOWS):
                at = START + i * STEP
                weekly = 1.0 + 0.3 * math.sin(2 * math.pi * (i % (96 * 7)) / (96 * 7))
                value = (1 + n % 7) * (1 + i / WINDOWS) * weekly + ((i * 7919) % 13) / 13
                copy.write_row((service, metric, value, unit, at, at + STEP, "bench"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('VACUUM ANALYZE "InfrastructureMetric"')
    return len(SERIES) * WINDOWS


def limits_file(directory: Path) -> Path:
    """One plan limiting all 60 series (limits set so some cross, some not)."""
    lines = [
        "thresholds: {warning: 0.75, critical: 0.9, resolve: 0.7}",
        "business: {monthly_revenue_usd: 10000, degraded_hours: 720}",
        "sources: {bench: {url: 'https://example.com/bench', read: 2026-11-25}}",
        "plans:",
        "  bench-free: {vendor: Bench, monthly_price_usd: 0, hard: true,"
        " upgrades_to: [bench-pro], source: bench}",
        "  bench-pro: {vendor: Bench, monthly_price_usd: 50, source: bench}",
        "services:",
    ]
    lines += [
        f"  {s}: {{plan: bench-free, revenue_share: 0.05}}" for s in sorted({s for s, _ in SERIES})
    ]
    lines.append("limits:")
    for n, (service, metric) in enumerate(SERIES):
        unit = canonical_unit(metric)
        monthly = (1 + n % 7) * 2 * 96 * 30 * (1.0 if n % 2 else 0.6)
        lines.append(
            f"  - {{service: {service}, metric: {metric}, plan: bench-free, "
            f"limit: {monthly:.0f} {unit}}}"
        )
        lines.append(
            f"  - {{service: {service}, metric: {metric}, plan: bench-pro, "
            f"limit: {monthly * 10:.0f} {unit}, overage: $0.01 per 1 {unit}}}"
        )
    path = directory / "limits.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with database() as dsn, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        rows = fill(dsn)
        print(f"machine: {machine()}")
        print(
            f"rows: {rows:,} ({len(SERIES)} series x {WINDOWS:,} windows), "
            f"loaded in {time.perf_counter() - started:.0f} s"
        )
        cases = account_cases(load(limits_file(Path(tmp))))
        settings = Settings(lookback=timedelta(days=365))
        scans, runs = [], []
        with psycopg.connect(dsn) as conn:
            for _ in range(repeats):
                t = time.perf_counter()
                conn.execute(SCAN).fetchall()
                scans.append(time.perf_counter() - t)
                t = time.perf_counter()
                summary = engine.run(conn, cases, settings, NOW)
                runs.append(time.perf_counter() - t)
        scan, run = median(scans), median(runs)
        print(f"repeats: {repeats} (medians, interleaved)")
        print(f"one aggregating SQL scan of every row: {scan:.3f} s")
        print(
            f"whole recommend run:                   {run:.3f} s "
            f"({len(summary.assessments)} series, {len(summary.created) + len(summary.refreshed)} "
            "recommendations)"
        )
        print(f"ratio recommend / scan: {run / scan:.2f} (target <= 3.00)")


if __name__ == "__main__":
    main()
