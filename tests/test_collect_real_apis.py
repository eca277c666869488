"""Collection against the APIs as they really answer (REFERENCE.md sections 3-5).

Local fake servers that publish Vercel's Pacific days a day late, answer 404
costs_not_found, refuse ranges over a year (Vercel) or over 60 days (Neon daily), send
null quantities and null series points; a real PostgreSQL behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobs.cli import main
from jobs.collect import config, summary
from jobs.collect.http import RetryPolicy
from jobs.collect.runner import RunReport, collect
from jobs.collect.sources import neon
from jobs.collect.sources.vercel_billing import NO_BILLING_DATA
from tests.support.fake_apis import FakeApis, charge, pacific_day

DATA = Path(__file__).parent / "data"
P = {d: pacific_day(datetime(2026, 11, d))[0] for d in range(10, 25)}  # Vercel's days


async def no_wait(_seconds: float) -> None:
    return None


FAST = RetryPolicy(attempts=2, base_delay=0.01, read_timeout=5, sleep=no_wait)


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    with FakeApis() as fake:
        yield fake


def run(apis: FakeApis, dsn: str, now: datetime, backfill: int = 4, **env: str) -> RunReport:
    apis.now = now
    settings = apis.env(vercel=True) | {"COLLECT_BACKFILL_DAYS": str(backfill)} | env
    return collect(config.from_env(settings), dsn, now=now, policy=FAST, lock_wait=0)


def outcome(report: RunReport, source: str) -> Any:
    return next(o for o in report.outcomes if o.source == source)


def stored(dsn: str, source: str = "vercel-billing") -> dict[tuple[str, str, datetime], Any]:
    """(value, unit, metadata) per series and window, the projects' rows added up (value)
    and their metadata merged by project."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            'SELECT service::text, "metricType"::text, "timestamp", value, unit, metadata, '
            'project FROM "InfrastructureMetric" WHERE source = %s ORDER BY project',
            [source],
        ).fetchall()
    found: dict[tuple[str, str, datetime], Any] = {}
    for service, metric, start, value, unit, metadata, _project in rows:
        key = (service, metric, start)
        if key in found:
            total, _, merged = found[key]
            for name in ("billedCost", "withoutQuantity"):
                if name in metadata:
                    merged[name] = merged.get(name, 0) + metadata[name]
            for name in ("services", "consumed", "pricing"):
                merged.setdefault(name, {}).update(metadata.get(name, {}))
            found[key] = (total + value, unit, merged)
        else:
            found[key] = (value, unit, dict(metadata))
    return found


def mark(dsn: str, source: str = "vercel-billing") -> tuple | None:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            'SELECT "collectedThrough", "lastSuccessAt", "lastNote" '
            'FROM "CollectionWatermark" WHERE source = %s',
            [source],
        ).fetchone()


def count(dsn: str, source: str = "vercel-billing") -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            'SELECT count(*) FROM "InfrastructureMetric" WHERE source = %s', [source]
        ).fetchone()
    return int(row[0]) if row else 0


def fixture_lines() -> list[dict[str, Any]]:
    text = (DATA / "vercel-charges-pro.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


# -- Vercel billing -------------------------------------------------------------------


def test_a_late_published_day_is_collected_by_the_next_run(
    apis: FakeApis, migrated_db: str
) -> None:
    apis.charges = [
        charge(datetime(2026, 11, 17), "Edge Requests", 1700, "Requests", 0.1),
        # The 18th appears four days after it ended, long after the 19th.
        charge(
            datetime(2026, 11, 18),
            "Edge Requests",
            1800,
            "Requests",
            0.2,
            published=datetime(2026, 11, 23, 9),
        ),
        charge(datetime(2026, 11, 19), "Edge Requests", 1900, "Requests", 0.3),
    ]
    first = run(apis, migrated_db, datetime(2026, 11, 21, 10))
    assert first.exit_code == 0, summary.as_text(first)
    got = stored(migrated_db)
    assert ("VERCEL_EDGE_REQUESTS", "REQUESTS", P[17]) in got
    assert ("VERCEL_EDGE_REQUESTS", "REQUESTS", P[19]) in got
    assert ("VERCEL_EDGE_REQUESTS", "REQUESTS", P[18]) not in got
    # The watermark does not pass the day that was not published.
    assert mark(migrated_db)[0] == P[18]

    second = run(apis, migrated_db, datetime(2026, 11, 23, 12))
    assert second.exit_code == 0
    got = stored(migrated_db)
    assert got[("VERCEL_EDGE_REQUESTS", "REQUESTS", P[18])][0] == 1800
    assert got[("VERCEL_EDGE_REQUESTS", "COST_USD", P[18])][0] == 0.2
    billing = outcome(second, "vercel-billing")
    assert (billing.written.new, billing.written.updated) == (2, 0)  # only the late day
    assert mark(migrated_db)[0] == P[20]


def test_a_revised_day_follows_the_provider_and_reruns_write_nothing(
    apis: FakeApis, migrated_db: str
) -> None:
    apis.charges = fixture_lines()
    now = datetime(2026, 11, 20, 12)
    first = run(apis, migrated_db, now)
    assert outcome(first, "vercel-billing").written.new > 0
    before = stored(migrated_db)
    again = run(apis, migrated_db, now + timedelta(minutes=15))
    billing = outcome(again, "vercel-billing")
    assert (billing.written.new, billing.written.updated) == (0, 0)
    assert billing.written.unchanged == count(migrated_db)
    assert stored(migrated_db) == before
    # Vercel revises the 18th's data transfer: the stored value follows, counted as updated.
    revised = next(
        line
        for line in apis.charges
        if line["ServiceName"] == "Fast Data Transfer"
        and line["ChargePeriodStart"].startswith("2026-11-18")
    )
    revised["EffectiveCost"] = 2.5
    third = run(apis, migrated_db, now + timedelta(minutes=30))
    billing = outcome(third, "vercel-billing")
    assert (billing.written.new, billing.written.updated) == (0, 1)
    assert stored(migrated_db)[("VERCEL_BANDWIDTH", "COST_USD", P[18])][0] == 2.5
    assert summary.as_text(third).splitlines()[3].split()[2:5] == ["1", "0", "1"]


def test_hobby_gets_one_clear_line_in_the_summary_and_in_status_and_exit_0(
    apis: FakeApis,
    migrated_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apis.hobby = True
    apis.deployments = []
    for name, value in apis.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    code = main(["collect"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert f"note vercel-billing: {NO_BILLING_DATA}" in out
    assert out.count(NO_BILLING_DATA) == 1
    assert apis.calls("/v1/billing")  # it did ask
    # Nothing published, nothing moved; the success is recorded, so status is not stale.
    through, success, note = mark(migrated_db)
    assert through is None and success is not None and note == NO_BILLING_DATA
    main(["status", "--now", (success + timedelta(minutes=5)).isoformat()])
    out, _ = capsys.readouterr()
    line = next(line for line in out.splitlines() if "source vercel-billing" in line)
    assert NO_BILLING_DATA in line and not line.startswith("FAIL")


def test_stored_cost_equals_the_effective_cost_of_every_usage_line(
    apis: FakeApis, migrated_db: str
) -> None:
    lines = fixture_lines()
    day = datetime(2026, 11, 18)
    lines += [
        charge(day, "Edge Config Reads", 500, "Reads", 0.0015),  # the old spelling
        charge(day, "Edge Requests", 3, "gigabyte", 0.25),  # a unit that does not fit
        charge(day, "Fluid Active CPU", None, None, 0.125),  # no quantity
        charge(day, "Teleport Minutes", 7, "minute", 0.75),  # a name nobody listed
        charge(day, "Tax", None, None, 1.0, category="Tax"),
    ]
    apis.charges = lines
    now = datetime(2026, 11, 20, 12)
    report = run(apis, migrated_db, now)
    assert report.exit_code == 0, summary.as_text(report)
    got = stored(migrated_db)
    served = [
        line
        for line in lines
        if line["ChargeCategory"] == "Usage"
        and datetime.fromisoformat(line["ChargePeriodEnd"][:19]) < now
    ]
    costs = sum(v[0] for (_, metric, _), v in got.items() if metric == "COST_USD")
    assert costs == pytest.approx(sum(line["EffectiveCost"] for line in served), abs=1e-9)
    # BilledCost kept as evidence.
    billed = sum(v[2]["billedCost"] for (_, metric, _), v in got.items() if metric == "COST_USD")
    assert billed == pytest.approx(sum(line["BilledCost"] for line in served))
    # Renamed and old spellings land on the same series.
    reads = got[("VERCEL_EDGE_CONFIG", "READ_OPERATIONS", P[18])]
    assert reads[0] == pytest.approx(16_500 + 500)
    # Unknown names: cost under "other Vercel usage", the name kept, counted in the summary.
    other = got[("VERCEL_OTHER", "COST_USD", P[18])]
    assert other[2]["services"]["Quantum Widgets"] == 0.15
    assert other[2]["services"]["Teleport Minutes"] == 0.75
    unmapped = outcome(report, "vercel-billing").unmapped
    assert unmapped["service 'Quantum Widgets' (cost kept as VERCEL_OTHER)"] == 1
    assert unmapped["unit 'gigabyte' of 'Edge Requests'"] == 1
    # The null-quantity line kept its cost and added no usage.
    cpu = got[("VERCEL_FUNCTIONS", "CPU_HOURS", P[18])]
    assert cpu[0] == pytest.approx(0.42 * 1.1)
    assert got[("VERCEL_FUNCTIONS", "COST_USD", P[18])][2]["withoutQuantity"] == 1
    assert "1 non-usage charges not stored (1 Tax)" in outcome(report, "vercel-billing").notes


@pytest.mark.parametrize(
    ("service_name", "quantity", "unit", "series", "value", "canonical"),
    [
        ("Fast Data Transfer", 2.5, "gigabyte", ("VERCEL_BANDWIDTH", "BANDWIDTH_GB"), 2.5, "GB"),
        (
            "Fluid Provisioned Memory",
            30,
            "gigabyte-hour",
            ("VERCEL_FUNCTIONS", "MEMORY_GB_HOURS"),
            30,
            "GB-hours",
        ),
        ("Fluid Active CPU", 1.5, "hour", ("VERCEL_FUNCTIONS", "CPU_HOURS"), 1.5, "CPU-hours"),
        # Storage held 24 GB-hours over one 24-hour day: 1 GB on average.
        ("Blob Storage Size", 24, "gigabyte-hour", ("VERCEL_BLOB", "STORAGE_MB"), 1000, "MB"),
        ("Build Minutes", 12, "minute", ("VERCEL_BUILD", None), 12, None),
        ("Edge Requests", 100, "Requests", ("VERCEL_EDGE_REQUESTS", "REQUESTS"), 100, "requests"),
        (
            "Function Invocations",
            10,
            "Invocations",
            ("VERCEL_FUNCTIONS", "INVOCATIONS"),
            10,
            "invocations",
        ),
        ("ISR Reads", 7, "Reads", ("VERCEL_ISR", "READ_OPERATIONS"), 7, "operations"),
        ("ISR Writes", 3, "Writes", ("VERCEL_ISR", "WRITE_OPERATIONS"), 3, "operations"),
        (
            "Blob Simple Operations",
            9,
            "Operations",
            ("VERCEL_BLOB", "READ_OPERATIONS"),
            9,
            "operations",
        ),
        ("Edge Function Execution Units", 4, "Units", ("VERCEL_FUNCTIONS", None), 4, None),
        ("Web Analytics Events", 5, "Events", ("VERCEL_WEB_ANALYTICS", "EVENTS"), 5, "events"),
        ("Speed Insights Data Points", 6, "Data Points", ("VERCEL_WEB_ANALYTICS", None), 6, None),
        ("AI Gateway Traces", 8, "Traces", ("VERCEL_OTHER", None), 8, None),
    ],
)
def test_every_observed_unit_spelling_converts(
    apis: FakeApis,
    migrated_db: str,
    service_name: str,
    quantity: float,
    unit: str,
    series: tuple[str, str | None],
    value: float,
    canonical: str | None,
) -> None:
    apis.charges = [charge(datetime(2026, 11, 18), service_name, quantity, unit, 0.01)]
    report = run(apis, migrated_db, datetime(2026, 11, 20, 12))
    assert not outcome(report, "vercel-billing").unmapped
    got = stored(migrated_db)
    service, metric = series
    if metric is None:  # cost only: the quantity stays in the cost row's metadata
        cost = got[(service, "COST_USD", P[18])]
        assert cost[2]["consumed"][service_name] == {unit: quantity}
        assert [key for key in got if key[1] != "COST_USD"] == []
    else:
        assert got[(service, metric, P[18])][:2] == (pytest.approx(value), canonical)


def test_a_400_day_backfill_is_split_into_requests_of_at_most_a_year(
    apis: FakeApis, migrated_db: str
) -> None:
    now = datetime(2026, 11, 20, 12)
    old, recent = datetime(2025, 10, 20), datetime(2026, 11, 18)
    apis.charges = [
        charge(old, "Edge Requests", 111, "Requests", 0.0),
        charge(recent, "Edge Requests", 222, "Requests", 0.0),
    ]
    report = run(apis, migrated_db, now, backfill=400)
    assert report.exit_code == 0, summary.as_text(report)
    ranges = [(q["from"][0], q["to"][0]) for q in apis.calls("/v1/billing")]
    assert len(ranges) == 2
    assert ranges[0][1] == ranges[1][0]  # contiguous, nothing left out
    for start, end in ranges:
        length = datetime.fromisoformat(end[:19]) - datetime.fromisoformat(start[:19])
        assert length <= timedelta(days=365)
    got = stored(migrated_db)
    assert got[("VERCEL_EDGE_REQUESTS", "REQUESTS", pacific_day(old)[0])][0] == 111
    assert got[("VERCEL_EDGE_REQUESTS", "REQUESTS", pacific_day(recent)[0])][0] == 222


def test_a_window_without_finished_charges_is_no_data_not_a_failure(
    apis: FakeApis, migrated_db: str
) -> None:
    apis.charges = [charge(datetime(2026, 11, 18), "Edge Requests", 5, "Requests", 0.0)]
    run(apis, migrated_db, datetime(2026, 11, 20, 12))
    assert mark(migrated_db)[0] == P[19]
    # Two hours later nothing new has ended: the API answers 404 for the new range only if
    # the whole range is empty; ours re-asks a week, so the stored day is simply unchanged.
    apis.charges = []
    report = run(apis, migrated_db, datetime(2026, 11, 20, 14))
    billing = outcome(report, "vercel-billing")
    assert billing.ok and billing.written.new == 0
    assert mark(migrated_db)[0] == P[19]  # never moved past what was not published


# -- Neon -----------------------------------------------------------------------------


def test_a_90_day_neon_backfill_is_split_to_the_60_day_cap(
    apis: FakeApis, migrated_db: str
) -> None:
    now = datetime(2026, 11, 20, 12)
    first = datetime(2026, 8, 22)
    apis.neon_consumption = [
        {
            "project_id": "calm-sea-123",
            "consumption": [
                {
                    "timeframe_start": (first + timedelta(days=i)).isoformat() + "Z",
                    "timeframe_end": (first + timedelta(days=i + 1)).isoformat() + "Z",
                    "metrics": [{"metric_name": "compute_unit_seconds", "value": 3600}],
                }
                for i in range(91)
            ],
        }
    ]
    env = apis.env(vercel=False, neon="org") | {"COLLECT_BACKFILL_DAYS": "90"}
    report = collect(config.from_env(env), migrated_db, now=now, policy=FAST, lock_wait=0)
    assert report.exit_code == 0, summary.as_text(report)
    ranges = [(q["from"][0], q["to"][0]) for q in apis.calls("/consumption_history")]
    assert len(ranges) == 2
    for start, end in ranges:
        length = datetime.fromisoformat(end[:19]) - datetime.fromisoformat(start[:19])
        assert length <= timedelta(days=60)
    compute = {
        k[2]: v[0]
        for k, v in stored(migrated_db, "neon:calm-sea-123").items()
        if k[1] == "COMPUTE_HOURS"
    }
    assert len(compute) == 91 and set(compute.values()) == {1.0}


def test_a_neon_406_names_the_range_problem(
    apis: FakeApis, migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(neon.RANGE_CAPS, "daily", timedelta(days=90))  # more than Neon serves
    env = apis.env(vercel=False, neon="org") | {"COLLECT_BACKFILL_DAYS": "80"}
    now = datetime(2026, 11, 20, 12)
    report = collect(config.from_env(env), migrated_db, now=now, policy=FAST, lock_wait=0)
    error = outcome(report, "neon-org:org-1").error
    assert report.exit_code == 1
    assert "HTTP 406" in error and "Neon refused the range" in error
    assert "at most 90 days per daily request" in error


def test_optional_neon_fields_may_be_missing(apis: FakeApis, migrated_db: str) -> None:
    page = json.loads((DATA / "neon-consumption-page.json").read_text())
    rows = neon.parse_consumption_page(page, 1)
    days = {(r.metric_type, r.start): r.value for r in rows.rows}
    assert days[("COMPUTE_HOURS", datetime(2026, 11, 18))] == 2.0
    assert days[("COMPUTE_HOURS", datetime(2026, 11, 19))] == 0.0  # no metrics: zero usage
    assert rows.unplaced == 1  # no timeframe: skipped, counted
    apis.neon_projects = {
        "ep-1": {
            "data_transfer_bytes": 1e9,
            "written_data_bytes": 1e6,
            "compute_time_seconds": 3600,
            "active_time_seconds": 4000,
            "consumption_period_start": "2026-11-01T00:00:00Z",
            "consumption_period_end": "2026-12-01T00:00:00Z",
        }  # no synthetic_storage_size
    }
    env = apis.env(vercel=False, neon="project")
    now = datetime(2026, 11, 20, 12)
    report = collect(config.from_env(env), migrated_db, now=now, policy=FAST, lock_wait=0)
    assert report.exit_code == 0, summary.as_text(report)
    got = stored(migrated_db, "neon:ep-1")
    assert {k[1] for k in got} == {"COMPUTE_HOURS", "BANDWIDTH_GB"}


# -- Upstash --------------------------------------------------------------------------


def test_upstash_null_points_are_skipped(apis: FakeApis, migrated_db: str) -> None:
    apis.upstash_stats = {"kv-1": json.loads((DATA / "upstash-stats.json").read_text())}
    env = apis.env(vercel=False, upstash="kv-1") | {"COLLECT_BACKFILL_DAYS": "4"}
    now = datetime(2026, 11, 20, 12)
    report = collect(config.from_env(env), migrated_db, now=now, policy=FAST, lock_wait=0)
    assert report.exit_code == 0, summary.as_text(report)
    got = stored(migrated_db, "upstash:kv-1")
    commands = {k[2].day: v[0] for k, v in got.items() if k[1] == "OPERATIONS"}
    assert commands == {16: 4100, 17: 3900, 18: 5200, 19: 4700}  # the 20th's null skipped
    assert got[("VERCEL_KV", "LATENCY_MS", datetime(2026, 11, 20))][0] == pytest.approx(2.1)
    assert got[("VERCEL_KV", "STORAGE_MB", datetime(2026, 11, 20))][0] == pytest.approx(10.4)


def test_a_marketplace_database_is_named_in_one_line(apis: FakeApis, migrated_db: str) -> None:
    apis.upstash_stats = {"kv-1": json.loads((DATA / "upstash-stats.json").read_text())}
    env = apis.env(vercel=False, upstash="kv-1,kv-market")
    now = datetime(2026, 11, 20, 12)
    report = collect(config.from_env(env), migrated_db, now=now, policy=FAST, lock_wait=0)
    assert report.exit_code == 1
    assert outcome(report, "upstash:kv-1").ok
    error = outcome(report, "upstash:kv-market").error
    assert error.startswith("Upstash database kv-market is not reachable with the Upstash")
    assert "Marketplace" in error and "\n" not in error
    assert f"error upstash:kv-market: {error}" in summary.as_text(report)


# -- A 200 that is no answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "source", "body", "expected"),
    [
        (
            "/v1/billing/charges",
            "vercel-billing",
            {"error": {"code": "internal", "message": "Something went wrong"}},
            "HTTP 200 with an error body: Something went wrong",
        ),
        (
            "/v6/deployments",
            "vercel-deployments",
            {"error": {"code": "forbidden", "message": "Not authorized"}},
            "HTTP 200 with an error body: Not authorized",
        ),
        ("/v6/deployments", "vercel-deployments", {}, "'deployments' is missing"),
        (
            "/v2/redis/stats/kv-1",
            "upstash:kv-1",
            {"error": "database is being migrated"},
            "HTTP 200 with an error body: database is being migrated",
        ),
        ("/v2/redis/stats/kv-1", "upstash:kv-1", {"days": []}, "none of the expected fields"),
        ("/projects/ep-1", "neon:ep-1", {"project": {}}, "consumption_period_start is missing"),
    ],
)
def test_a_200_with_an_error_or_without_the_fields_fails_and_moves_no_watermark(
    apis: FakeApis, migrated_db: str, route: str, source: str, body: Any, expected: str
) -> None:
    from tests.support.fake_apis import Reply, upstash_stats

    apis.charges = [charge(datetime(2026, 11, 18), "Edge Requests", 5, "Requests", 0.0)]
    apis.upstash_stats = {"kv-1": upstash_stats([datetime(2026, 11, 19)], [10], 1000)}
    apis.neon_projects = {
        "ep-1": {
            "data_transfer_bytes": 1,
            "written_data_bytes": 1,
            "compute_time_seconds": 1,
            "active_time_seconds": 1,
            "consumption_period_start": "2026-11-01T00:00:00Z",
        }
    }
    apis.script(route, Reply(200, body))
    now = datetime(2026, 11, 20, 12)
    report = run(apis, migrated_db, now, **apis.env(neon="project", upstash="kv-1"))
    assert report.exit_code == 1
    error = outcome(report, source).error
    assert expected in error, error
    assert stored(migrated_db, source) == {}
    assert mark(migrated_db, source)[:2] == (None, None)
