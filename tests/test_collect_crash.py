"""PostgreSQL stopped in the middle of a write: the transaction rolls back, the next run
completes the window. The job runs as the CLI in a subprocess against a server of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.collect.records import day_start
from jobs.collect.runner import utc_now
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN
from tests.support import pg_server
from tests.support.fake_apis import FakeApis, upstash_stats

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def collect_process(env: dict[str, str]) -> subprocess.Popen[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VERCEL_", "NEON_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "collect", "--lock-wait", "0"],
        cwd=ROOT,
        env=keep | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_blocked_insert(dsn: str, process: subprocess.Popen[str]) -> None:
    """Until the job's write into InfrastructureMetric (merge_metrics) waits on our table lock."""
    deadline = time.monotonic() + 60
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline and process.poll() is None:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'infra-monitoring' AND wait_event_type = 'Lock' "
                "AND query LIKE '%%merge_metrics(%%'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    out, err = process.communicate(timeout=30)
    pytest.fail(f"the job never reached its write: {out} {err}")


def rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute('SELECT count(*) FROM "InfrastructureMetric"').fetchone()
    return int(row[0]) if row else 0


def test_server_stopped_mid_write_rolls_back_and_the_next_run_completes() -> None:
    today = day_start(utc_now())
    days = [today - timedelta(days=d) for d in (2, 1, 0)]
    with pg_server.dedicated_server("monitoring") as (data_dir, dsn), FakeApis() as apis:
        with psycopg.connect(dsn) as conn:
            for obj in SCHEMA_PLAN:
                migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, "public"))
        apis.upstash_stats = {"kv-1": upstash_stats(days, [10, 20, 30], 1_000_000)}
        env = apis.env(vercel=False, upstash="kv-1") | {
            "DATABASE_URL": dsn,
            "COLLECT_BACKFILL_DAYS": "2",
        }
        holder = psycopg.connect(dsn)
        holder.execute('LOCK TABLE "InfrastructureMetric" IN SHARE MODE')
        job = collect_process(env)
        try:
            wait_for_blocked_insert(dsn, job)
            pg_server.crash(data_dir)
            out, err = job.communicate(timeout=60)
        finally:
            if job.poll() is None:
                job.kill()
            holder.close()
        assert job.returncode == 1, out + err
        assert "lost the connection to PostgreSQL" in out
        assert "upstash:kv-1" in out and "FAILED" in out

        dsn = pg_server.start_again(data_dir, "monitoring")
        env["DATABASE_URL"] = dsn
        assert rows(dsn) == 0  # the interrupted transaction left nothing behind
        with psycopg.connect(dsn) as conn:
            assert conn.execute('SELECT count(*) FROM "CollectionWatermark"').fetchone() == (0,)

        again = collect_process(env)
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, out + err
        assert rows(dsn) == 8  # 3 days x (commands, bandwidth) + storage + latency
        last = collect_process(env)
        out, _ = last.communicate(timeout=120)
        assert last.returncode == 0
        # written, new, updated, unchanged: today re-read, unchanged
        assert out.splitlines()[3].split()[2:6] == ["0", "0", "0", "4"]
