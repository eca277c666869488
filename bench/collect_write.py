"""Write throughput of the collection job's storage path versus a raw COPY, same table, same run.

The storage path (jobs.collect.store.write) sends each source's rows as one array per
column to the database function merge_metrics, which replaces overlapped rows, inserts
new windows and updates changed ones (INSERT … ON CONFLICT … DO UPDATE … WHERE), counting
new / updated / unchanged rows. The baseline is a plain COPY straight into
InfrastructureMetric; for reference, the path it replaced (COPY into a temporary table,
then the same merge: it needed TEMPORARY on the database) runs too. Target: the storage
path writes at least half as many rows per second as COPY.

    python bench/collect_write.py [ROWS] [REPEATS]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

import psycopg
from _support import database, machine, median

from jobs.collect import store
from jobs.collect.records import MetricRow

SERIES = (
    ("VERCEL_BANDWIDTH", "BANDWIDTH_GB"),
    ("VERCEL_FUNCTIONS", "INVOCATIONS"),
    ("VERCEL_FUNCTIONS", "COST_USD"),
    ("VERCEL_EDGE_REQUESTS", "REQUESTS"),
    ("VERCEL_KV", "OPERATIONS"),
)


def make_rows(count: int) -> list[MetricRow]:
    rows = []
    start = datetime(2025, 1, 1)
    per_source = len(SERIES) * 365
    for i in range(count):
        service, metric = SERIES[i % len(SERIES)]
        day = start + timedelta(days=(i // len(SERIES)) % 365)
        meta = {"projects": {"web": i * 0.75, "docs": i * 0.25}, "charges": 2}
        source = f"bench:{i // per_source}"
        end = day + timedelta(days=1)
        rows.append(MetricRow(service, metric, i * 1.0, day, end, source, meta))
    return rows


COLUMNS = 'service, "metricType", value, unit, "timestamp", "windowEnd", source, project, metadata'
COPY = f'COPY "InfrastructureMetric" ({COLUMNS}) FROM STDIN'

# The staging path before merge_metrics, kept here only as a reference point.
STAGE = """CREATE TEMP TABLE stage (service TEXT, "metricType" TEXT, value FLOAT8, unit TEXT,
    "timestamp" TIMESTAMP(3), "windowEnd" TIMESTAMP(3), source TEXT, project TEXT,
    metadata JSONB) ON COMMIT DROP"""
STAGED_REPLACE = """DELETE FROM "InfrastructureMetric" AS m USING stage AS s
    WHERE m.service = s.service::"InfrastructureService"
      AND m."metricType" = s."metricType"::"MetricType"
      AND m.source = s.source AND m.project = s.project
      AND m."timestamp" < s."windowEnd" AND m."windowEnd" > s."timestamp"
      AND m."timestamp" <> s."timestamp"
"""
STAGED_MERGE = f"""INSERT INTO "InfrastructureMetric" AS m ({COLUMNS})
    SELECT service::"InfrastructureService", "metricType"::"MetricType", value, unit,
           "timestamp", "windowEnd", source, project, metadata FROM stage
    ON CONFLICT (service, "metricType", source, project, "timestamp") DO UPDATE
    SET value = EXCLUDED.value, unit = EXCLUDED.unit, "windowEnd" = EXCLUDED."windowEnd",
        metadata = EXCLUDED.metadata, "updatedAt" = timezone('UTC', now())
    WHERE (m.value, m.unit, m."windowEnd", m.metadata) IS DISTINCT FROM
          (EXCLUDED.value, EXCLUDED.unit, EXCLUDED."windowEnd", EXCLUDED.metadata)"""


def copy_row(r: MetricRow) -> tuple[object, ...]:
    return (
        r.service,
        r.metric_type,
        r.value,
        r.unit,
        r.start,
        r.end,
        r.source,
        r.project,
        json.dumps(r.metadata),
    )


def raw_copy(conn: psycopg.Connection, rows: list[MetricRow]) -> None:
    with conn.transaction(), conn.cursor() as cur, cur.copy(COPY) as copy:
        for r in rows:
            copy.write_row(copy_row(r))


def staged_copy(conn: psycopg.Connection, rows: list[MetricRow]) -> None:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(STAGE)
        with cur.copy(f"COPY stage ({COLUMNS}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(copy_row(r))
        cur.execute(STAGED_REPLACE)
        cur.execute(STAGED_MERGE)


def storage_path(conn: psycopg.Connection, rows: list[MetricRow]) -> store.Written:
    return store.write(conn, "bench", rows, through=None, run_id="bench", at=datetime(2026, 1, 1))


def timed(action, conn, rows) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action(conn, rows)
    return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rows = make_rows(count)
    copy_times, staged_times, store_times, rerun_times = [], [], [], []
    with database() as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(repeats):  # interleaved, so all see the same machine load
            conn.execute('TRUNCATE "InfrastructureMetric"')
            copy_times.append(timed(raw_copy, conn, rows))
            conn.execute('TRUNCATE "InfrastructureMetric"')
            staged_times.append(timed(staged_copy, conn, rows))
            conn.execute('TRUNCATE "InfrastructureMetric"')
            store_times.append(timed(storage_path, conn, rows))
            rerun_times.append(timed(storage_path, conn, rows))  # every row unchanged
        check = storage_path(conn, rows)
        assert (check.new, check.updated, check.unchanged) == (0, 0, count), check
    copy_s, staged_s = median(copy_times), median(staged_times)
    store_s, rerun_s = median(store_times), median(rerun_times)
    print(f"machine: {machine()}")
    print(f"rows per write: {count}, repeats: {repeats} (medians)")
    print(f"raw COPY into InfrastructureMetric: {copy_s:.3f} s  ({count / copy_s:,.0f} rows/s)")
    print(f"old path, COPY to a temp table:    {staged_s:.3f} s  ({count / staged_s:,.0f} rows/s)")
    print(f"storage path, new rows:            {store_s:.3f} s  ({count / store_s:,.0f} rows/s)")
    print(f"storage path, all unchanged:       {rerun_s:.3f} s  ({count / rerun_s:,.0f} rows/s)")
    print(f"storage path throughput / old path throughput: {staged_s / store_s:.2f}")
    ratio = copy_s / store_s
    print(f"storage path throughput / COPY throughput: {ratio:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
