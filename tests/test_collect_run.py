"""Whole collection runs against real PostgreSQL and the local provider APIs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from jobs.collect import config, summary
from jobs.collect.http import RetryPolicy
from jobs.collect.runner import RunReport, collect
from jobs.errors import CollectionBusy
from jobs.text import markdown
from tests.support.fake_apis import (
    FakeApis,
    Reply,
    charge,
    deployment,
    pacific_day,
    upstash_stats,
)

NOW = datetime(2026, 11, 20, 10, 0)  # 02:00 in Los Angeles
D18, D19, D20 = (datetime(2026, 11, d) for d in (18, 19, 20))
# Vercel's charge days (Los Angeles midnight, 08:00 UTC in November).
P18, P19, P20 = (pacific_day(d)[0] for d in (D18, D19, D20))
D22 = datetime(2026, 11, 22)


async def no_wait(_seconds: float) -> None:
    return None


FAST = RetryPolicy(attempts=3, base_delay=0.01, read_timeout=5, sleep=no_wait)

NEON_PROJECT = {
    "data_transfer_bytes": 4e9,
    "written_data_bytes": 1e6,
    "compute_time_seconds": 18_000,
    "active_time_seconds": 20_000,
    "synthetic_storage_size": 1.5e8,
    "consumption_period_start": "2026-11-01T00:00:00Z",
    "consumption_period_end": "2026-12-01T00:00:00Z",
}


def populate(apis: FakeApis) -> None:
    apis.charges = [
        charge(D18, "Fast Data Transfer", 1.5, "gigabyte", 0.0),
        charge(D18, "Edge Requests", 300_000, "Requests", 0.0),
        charge(D19, "Fast Data Transfer", 2.0, "gigabyte", 0.0),
        charge(D19, "Fast Data Transfer", 250, "MB", 0.0, project="docs"),
        charge(D19, "Function Invocations", 120_000, "Invocations", 0.07, billed=0.0),
        charge(D19, "Fluid Active CPU", 0.5, "hour", 0.064, billed=0.0),
        # The 20th (Los Angeles) has not ended at NOW: the API does not serve it yet.
        charge(D20, "Edge Requests", 1, "Requests", 0.0),
    ]
    apis.deployments = [
        deployment("dpl_1", D19 + timedelta(hours=9), 95),
        deployment("dpl_2", D19 + timedelta(hours=15), 200),
        deployment("dpl_3", D20 + timedelta(hours=8), 40),
    ]
    apis.neon_projects = {"ep-1": dict(NEON_PROJECT)}
    apis.upstash_stats = {"kv-1": upstash_stats([D18, D19, D20], [1000, 2500, 700], 12_000_000)}


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    with FakeApis() as fake:
        populate(fake)
        yield fake


def run(apis: FakeApis, dsn: str, now: datetime = NOW, **kwargs: Any) -> RunReport:
    env = apis.env(neon="project", upstash="kv-1") | {"COLLECT_BACKFILL_DAYS": "2"}
    return collect(config.from_env(env), dsn, now=now, policy=FAST, lock_wait=0, **kwargs)


def metrics(
    dsn: str, source: str | None = None
) -> dict[tuple[str, str, str, datetime, str], tuple]:
    """Rows by natural key (service, metric type, source, timestamp, project)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            'SELECT service::text, "metricType"::text, source, "timestamp", project, value, '
            'unit, "windowEnd", metadata FROM "InfrastructureMetric" '
            "WHERE %(source)s::text IS NULL OR source = %(source)s",
            {"source": source},
        ).fetchall()
    return {(r[0], r[1], r[2], r[3], r[4]): (r[5], r[6], r[7], r[8]) for r in rows}


def watermark(dsn: str, source: str) -> tuple | None:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            'SELECT "collectedThrough", "lastSuccessAt", "lastError" '
            'FROM "CollectionWatermark" WHERE source = %s',
            [source],
        ).fetchone()


def outcome(report: RunReport, source: str) -> Any:
    return next(o for o in report.outcomes if o.source == source)


def test_every_source_lands_values_in_canonical_units(apis: FakeApis, migrated_db: str) -> None:
    report = run(apis, migrated_db)
    assert report.exit_code == 0, summary.as_text(report)
    got = metrics(migrated_db)
    # Each charge keeps its own (Pacific) day.
    # One row per project (FOCUS Tags.ProjectId), the name kept in the metadata.
    bandwidth = got[("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "vercel-billing", P19, "prj_web")]
    assert bandwidth[:3] == (pytest.approx(2.0), "GB", P20)
    assert bandwidth[3]["projectName"] == "web"
    docs = got[("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "vercel-billing", P19, "prj_docs")]
    assert docs[0] == pytest.approx(0.25)
    assert got[("VERCEL_FUNCTIONS", "INVOCATIONS", "vercel-billing", P19, "prj_web")][:2] == (
        120_000,
        "invocations",
    )
    assert got[("VERCEL_FUNCTIONS", "CPU_HOURS", "vercel-billing", P19, "prj_web")][:2] == (
        0.5,
        "CPU-hours",
    )
    cost = got[("VERCEL_FUNCTIONS", "COST_USD", "vercel-billing", P19, "prj_web")]
    assert cost[:2] == (pytest.approx(0.134), "USD")  # EffectiveCost
    assert cost[3]["billedCost"] == 0.0
    assert got[("VERCEL_EDGE_REQUESTS", "REQUESTS", "vercel-billing", P18, "prj_web")][0] == 300_000
    assert ("VERCEL_EDGE_REQUESTS", "REQUESTS", "vercel-billing", P20) not in got
    # Deployments: builds and whole build minutes per day (95 s -> 2, 200 s -> 4).
    assert got[("VERCEL_BUILD", "BUILDS", "vercel-deployments", D19, "")][:2] == (2, "builds")
    assert got[("VERCEL_BUILD", "BUILD_MINUTES", "vercel-deployments", D19, "")][:2] == (
        6,
        "minutes",
    )
    assert got[("VERCEL_BUILD", "BUILDS", "vercel-deployments", D18, "")][0] == 0
    # Neon project: counters since the period start, storage for today.
    assert got[("VERCEL_POSTGRES", "COMPUTE_HOURS", "neon:ep-1", datetime(2026, 11, 1), "")][
        :3
    ] == (
        5.0,
        "CU-hours",
        NOW,
    )
    assert (
        got[("VERCEL_POSTGRES", "BANDWIDTH_GB", "neon:ep-1", datetime(2026, 11, 1), "")][0] == 4.0
    )
    assert got[("VERCEL_POSTGRES", "STORAGE_MB", "neon:ep-1", D20, "")][:2] == (150.0, "MB")
    # Upstash: commands per day, storage and latency today.
    assert got[("VERCEL_KV", "OPERATIONS", "upstash:kv-1", D19, "")][:2] == (2500, "operations")
    assert got[("VERCEL_KV", "STORAGE_MB", "upstash:kv-1", D20, "")][:2] == (12.0, "MB")
    assert got[("VERCEL_KV", "LATENCY_MS", "upstash:kv-1", D20, "")][:2] == (3.0, "ms")
    # The first run backfilled two days before today; billing stands at the end of the last
    # published day, the others at today (partial, re-collected).
    assert watermark(migrated_db, "vercel-billing")[:2] == (P20, NOW)
    assert watermark(migrated_db, "upstash:kv-1")[0] == D20
    with psycopg.connect(migrated_db) as conn:
        status, written, sources = conn.execute(
            'SELECT status, "rowsWritten", sources FROM "CollectionRun"'
        ).fetchone()
    assert (status, written) == ("ok", len(got))
    assert {s["source"] for s in sources} == {
        "vercel-billing",
        "vercel-deployments",
        "neon:ep-1",
        "upstash:kv-1",
    }


def test_rerunning_a_window_writes_no_new_rows(apis: FakeApis, migrated_db: str) -> None:
    first = run(apis, migrated_db)
    before = metrics(migrated_db)
    second = run(apis, migrated_db)
    assert second.exit_code == 0
    assert all(o.written.new == 0 for o in second.outcomes)
    billing = outcome(second, "vercel-billing")
    assert billing.written.updated == 0 and billing.written.unchanged > 0
    assert metrics(migrated_db) == before
    assert sum(o.written.new for o in first.outcomes) == len(before)


def test_a_failed_source_writes_nothing_and_the_others_commit(
    apis: FakeApis, migrated_db: str
) -> None:
    apis.script("/v2/redis/stats/kv-1", Reply(401, {"error": "Unauthorized"}))
    report = run(apis, migrated_db)
    assert report.exit_code == 1
    failed = outcome(report, "upstash:kv-1")
    assert failed.error == (
        "GET /v2/redis/stats/kv-1: HTTP 401: Unauthorized "
        "(the credentials were refused: check UPSTASH_EMAIL and UPSTASH_API_KEY)"
    )
    assert metrics(migrated_db, "upstash:kv-1") == {}
    assert metrics(migrated_db, "vercel-billing")
    assert watermark(migrated_db, "upstash:kv-1") == (None, None, failed.error)
    text = summary.as_text(report)
    assert "upstash:kv-1" in text and "FAILED" in text and "error upstash:kv-1: GET" in text
    # The next run, with the token fixed, collects the window.
    again = run(apis, migrated_db)
    assert again.exit_code == 0
    assert outcome(again, "upstash:kv-1").written.new == 8


@pytest.mark.parametrize(
    ("script", "charges_extra", "expected"),
    [
        ([Reply(cut_after=2)] * 3, [], "the response was cut short"),
        ([], [b"{not json\n"], "line 7 of the charges stream is not valid JSON"),
        ([Reply(500, b"oops")] * 3, [], "HTTP 500; gave up after 3 attempts"),
        ([Reply(429, {}, {"Retry-After": "1"})] * 3, [], "HTTP 429; gave up after 3 attempts"),
        ([Reply(429, {}, {"Retry-After": "600"})], [], "would exceed the retry budget of 120s"),
    ],
    ids=["stream-cut", "malformed-line", "server-errors", "rate-limited", "rate-limit-too-long"],
)
def test_a_broken_billing_stream_writes_nothing_of_that_source(
    apis: FakeApis, migrated_db: str, script: list[Reply], charges_extra: list, expected: str
) -> None:
    apis.script("/v1/billing", *script)
    apis.charges += charges_extra
    report = run(apis, migrated_db)
    assert report.exit_code == 1
    assert expected in (outcome(report, "vercel-billing").error or "")
    assert metrics(migrated_db, "vercel-billing") == {}
    assert watermark(migrated_db, "vercel-billing")[0] is None  # resumes where it was
    assert metrics(migrated_db, "vercel-deployments")  # the other Vercel stream is kept


def test_a_slow_source_times_out_and_the_rest_is_kept(apis: FakeApis, migrated_db: str) -> None:
    apis.script("/projects/ep-1", *[Reply(delay=1.0)] * 3)
    env = apis.env(neon="project", upstash="kv-1")
    policy = replace(FAST, read_timeout=0.2, attempts=2)
    report = collect(config.from_env(env), migrated_db, now=NOW, policy=policy, lock_wait=0)
    assert "no answer within 0.2s" in (outcome(report, "neon:ep-1").error or "")
    assert metrics(migrated_db, "neon:ep-1") == {}
    assert outcome(report, "upstash:kv-1").ok


def test_unknown_service_names_are_shown_in_the_summary(apis: FakeApis, migrated_db: str) -> None:
    apis.charges += [charge(D19, "Sandbox Hours", 3, "hours", 0.5)] * 2
    report = run(apis, migrated_db)
    assert report.exit_code == 0
    label = "service 'Sandbox Hours' (cost kept as VERCEL_OTHER)"
    assert outcome(report, "vercel-billing").unmapped == {label: 2}
    assert f"unmapped vercel-billing: {label} (2 lines)" in summary.as_text(report)
    assert f"{markdown(label)} (2 lines)" in summary.as_markdown(report)  # escaped: VERCEL\\_OTHER
    other = metrics(migrated_db, "vercel-billing")[
        ("VERCEL_OTHER", "COST_USD", "vercel-billing", P19, "prj_web")
    ]
    assert other[0] == 1.0 and other[3]["services"] == {"Sandbox Hours": 1.0}


def test_a_late_run_fills_the_gap(apis: FakeApis, migrated_db: str) -> None:
    apis.publication_lag = timedelta(hours=20)
    apis.charges += [
        charge(datetime(2026, 11, d), "Edge Requests", d * 1000, "Requests", 0.0) for d in (21, 22)
    ]
    apis.now = first = datetime(2026, 11, 20, 23, 0)
    run(apis, migrated_db, now=first)
    # The 19th (Los Angeles) ended at 08:00 UTC on the 20th: not published 15 hours later.
    assert watermark(migrated_db, "vercel-billing")[0] == P19
    # Then no run for three and a half days.
    apis.now = later = datetime(2026, 11, 24, 12, 0)
    report = run(apis, migrated_db, now=later)
    got = metrics(migrated_db, "vercel-billing")
    requests = {
        day: got[("VERCEL_EDGE_REQUESTS", "REQUESTS", "vercel-billing", day, "prj_web")][0]
        for day in (P18, P20, pacific_day(datetime(2026, 11, 21))[0], pacific_day(D22)[0])
    }
    assert list(requests.values()) == [300_000, 1, 21_000, 22_000]
    assert watermark(migrated_db, "vercel-billing")[0] == pacific_day(datetime(2026, 11, 23))[0]
    # From a week before the watermark (the 12th) to today (the 24th, Los Angeles).
    assert outcome(report, "vercel-billing").windows == 13


def test_overlapping_runs_never_double_write(apis: FakeApis, migrated_db: str) -> None:
    apis.delay = 0.5  # the first run holds the lock while its sources answer
    env = apis.env(neon="project", upstash="kv-1")
    reports: list[RunReport] = []
    first = threading.Thread(
        target=lambda: reports.append(
            collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=0)
        )
    )
    first.start()
    try:
        while not apis.calls("/"):  # the first run is fetching, so it holds the lock
            threading.Event().wait(0.01)
        with pytest.raises(CollectionBusy, match="another collection run holds the lock"):
            collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=0)
        waited = collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=30)
    finally:
        first.join()
    assert reports[0].exit_code == 0 and waited.exit_code == 0
    assert sum(o.written.new for o in waited.outcomes) == 0
    with psycopg.connect(migrated_db) as conn:
        duplicates = conn.execute(
            'SELECT count(*) FROM (SELECT 1 FROM "InfrastructureMetric" '
            'GROUP BY service, "metricType", source, project, "timestamp" HAVING count(*) > 1) d'
        ).fetchone()
        runs = conn.execute('SELECT count(*) FROM "CollectionRun"').fetchone()
    assert duplicates == (0,) and runs == (2,)


def test_deployments_and_neon_consumption_follow_their_pagination(
    apis: FakeApis, migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs.collect.sources import neon

    monkeypatch.setattr(neon, "PAGE_SIZE", 2)
    apis.page_size = 1
    apis.neon_consumption = [
        {
            "project_id": f"p{i}",
            "consumption": [
                {
                    "timeframe_start": "2026-11-19T00:00:00Z",
                    "timeframe_end": "2026-11-20T00:00:00Z",
                    "metrics": [{"metric_name": "compute_unit_seconds", "value": 3600 * i}],
                }
            ],
        }
        for i in range(1, 6)
    ]
    env = apis.env(neon="org") | {"COLLECT_BACKFILL_DAYS": "2"}
    report = collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=0)
    assert report.exit_code == 0, summary.as_text(report)
    assert len(apis.calls("/v6/deployments")) == 3  # three deployments, one per page
    assert len(apis.calls("/consumption_history")) == 3
    got = metrics(migrated_db)
    for i in range(1, 6):
        assert got[("VERCEL_POSTGRES", "COMPUTE_HOURS", f"neon:p{i}", D19, "")][0] == i
    assert got[("VERCEL_BUILD", "BUILDS", "vercel-deployments", D19, "")][0] == 2
    assert watermark(migrated_db, "neon-org:org-1")[0] == D20


def test_sources_are_fetched_concurrently(apis: FakeApis, migrated_db: str) -> None:
    apis.delay = 1.0
    apis.upstash_stats |= {f"kv-{i}": apis.upstash_stats["kv-1"] for i in range(2, 5)}
    env = apis.env(neon="project", upstash="kv-1,kv-2,kv-3,kv-4")
    report = collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=0)
    assert report.exit_code == 0
    assert len(report.outcomes) == 7
    # One request at a time would never have two in the server at once.
    assert apis.max_in_flight >= 2
