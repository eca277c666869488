"""The pure parts of the collection job: payloads to rows, the mapping table, windows, config."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jobs.collect import config
from jobs.collect.focus import ChargeTotals, level_factor, parse_charge, source_for
from jobs.collect.http import retry_delay
from jobs.collect.records import MetricRow, conflicting_windows
from jobs.collect.runner import resume_from
from jobs.collect.sources.base import DailyPlan, series_time
from jobs.collect.sources.focus_file import file_format, records
from jobs.collect.sources.neon import parse_consumption_page, project_rows
from jobs.collect.sources.upstash import stats_rows
from jobs.collect.sources.vercel_deployments import build_rows, parse_deployment, parse_page
from jobs.collect.vercel_services import VERCEL_METERS, find_meter
from jobs.errors import ConfigError, PayloadError
from jobs.model import METRIC_TYPES, SERVICES
from tests.support.fake_apis import charge, deployment, pacific_day, upstash_stats

DAY1 = datetime(2026, 11, 18)
PDAY1 = pacific_day(DAY1)[0]  # Vercel's charge day of Nov 18: from 08:00 UTC
NOW = datetime(2026, 11, 20, 10, 0)


def test_every_meter_maps_to_known_enum_values_and_names_are_unique() -> None:
    names = [n.casefold() for m in VERCEL_METERS for n in (m.service_name, *m.aliases)]
    assert len(names) == len(set(names))
    for meter in VERCEL_METERS:
        assert meter.service in SERVICES
        assert meter.metric_type is None or meter.metric_type in METRIC_TYPES
    assert find_meter("  fast data transfer ") is not None


def test_usage_and_cost_add_up_per_service_and_day_with_projects() -> None:
    totals = ChargeTotals()
    for record in (
        charge(DAY1, "Fast Data Transfer", 2.0, "gigabyte", 0.30, billed=0.0, project="web"),
        charge(DAY1, "Fast Data Transfer", 500, "MB", 0.05, billed=0.01, project="docs"),
        charge(DAY1, "Edge Requests", 1_000_000, "Requests", 2.0),
        charge(DAY1, "Pro Plan", 1, "seat", 20.0, category="Purchase"),
    ):
        totals.add(parse_charge(record, "test"))
    rows = {(r.service, r.metric_type, r.project): r for r in totals.rows()}
    # One row per project (Tags.ProjectId), its name in the metadata.
    bandwidth = rows[("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "prj_web")]
    assert bandwidth.value == pytest.approx(2.0)
    assert bandwidth.unit == "GB"
    assert bandwidth.metadata["projectName"] == "web"
    assert rows[("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "prj_docs")].value == pytest.approx(0.5)
    # The charge's own (Pacific) day, 08:00 UTC to 08:00 UTC in November.
    assert (bandwidth.start, bandwidth.end) == (PDAY1, PDAY1 + timedelta(days=1))
    assert bandwidth.source == "vercel-billing"
    cost = rows[("VERCEL_BANDWIDTH", "COST_USD", "prj_docs")]
    assert cost.value == pytest.approx(0.05)  # EffectiveCost
    assert cost.metadata["billedCost"] == pytest.approx(0.01)  # BilledCost, as evidence
    assert cost.metadata["pricing"] == {"Fast Data Transfer": {"MB": 500.0}}
    assert rows[("VERCEL_BANDWIDTH", "COST_USD", "prj_web")].value == pytest.approx(0.30)
    assert rows[("VERCEL_EDGE_REQUESTS", "REQUESTS", "prj_web")].value == 1_000_000
    assert totals.skipped == {} and len(totals.purchases) == 1  # kept apart, not skipped
    assert "1 purchase lines kept as the plans paid for" in totals.notes()
    assert not any(r.metric_type == "COST_USD" and r.value == 20.0 for r in rows.values())


def test_unknown_service_names_and_units_are_counted_not_dropped_silently() -> None:
    totals = ChargeTotals()
    totals.add(parse_charge(charge(DAY1, "Quantum Compute", 3, "qubits", 1.0), "t"))
    totals.add(parse_charge(charge(DAY1, "Edge Requests", 3, "GB", 1.0), "t"))
    assert totals.unmapped == {
        "service 'Quantum Compute' (cost kept as VERCEL_OTHER)": 1,
        "unit 'GB' of 'Edge Requests'": 1,
    }
    # Both costs count: the unknown name's under "other Vercel usage", name kept; the known
    # service's even though its unit does not fit (its usage is not guessed).
    rows = {(r.service, r.metric_type): r for r in totals.rows()}
    assert set(rows) == {("VERCEL_OTHER", "COST_USD"), ("VERCEL_EDGE_REQUESTS", "COST_USD")}
    assert rows[("VERCEL_OTHER", "COST_USD")].metadata["services"] == {"Quantum Compute": 1.0}


def test_build_minutes_from_billing_are_cost_only() -> None:
    totals = ChargeTotals()
    totals.add(parse_charge(charge(DAY1, "Build Minutes", 120, "minute", 0.42), "t"))
    assert [(r.service, r.metric_type) for r in totals.rows()] == [("VERCEL_BUILD", "COST_USD")]
    assert not totals.unmapped


def test_storage_billed_as_a_time_integral_becomes_the_days_average_level() -> None:
    # 10 GB held for one day of November (a 721-hour Pacific month: the clocks went back)
    # is 10 * 24 / 721 GB-month: stored as 10,000 MB.
    day = (PDAY1, PDAY1 + timedelta(days=1))
    assert level_factor("STORAGE_MB", "GB-month", *day) == pytest.approx(721 / 24)
    assert level_factor("STORAGE_MB", "GB-hours", *day) == pytest.approx(1 / 24)
    for quantity, unit in ((10 * 24 / 721, "GB-month"), (240, "gigabyte-hour"), (10, "gigabyte")):
        totals = ChargeTotals()
        totals.add(parse_charge(charge(DAY1, "Blob Storage Size", quantity, unit, 0.01), "t"))
        storage = next(r for r in totals.rows() if r.metric_type == "STORAGE_MB")
        assert storage.value == pytest.approx(10_000), unit


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ConsumedQuantity": "lots"}, "line 7: ConsumedQuantity is not a number: 'lots'"),
        ({"ConsumedQuantity": -1}, "line 7: ConsumedQuantity is negative"),
        ({"ChargePeriodStart": "yesterday"}, "line 7: ChargePeriodStart is not an ISO 8601 time"),
        ({"ServiceName": None}, "line 7: ServiceName is missing"),
        ({"ChargePeriodEnd": "2026-11-17T00:00:00Z"}, "line 7: ChargePeriodEnd is not after"),
        ({"Tags": "[1]"}, "line 7: Tags is not"),
    ],
)
def test_a_malformed_charge_names_the_line_and_the_field(change: dict, message: str) -> None:
    with pytest.raises(PayloadError, match="^" + message.replace("(", r"\(")):
        parse_charge(charge(DAY1, "Edge Requests", 1, "Requests", 0.1) | change, "line 7")


def test_focus_exports_of_other_providers_get_their_own_stream() -> None:
    record = parse_charge(charge(DAY1, "Edge Requests", 1, "Requests", 0.1, provider="AWS"), "t")
    assert source_for(record) == "focus:AWS"
    vercel = parse_charge(charge(DAY1, "Edge Requests", 1, "Requests", 0.1), "t")
    assert source_for(vercel) == "vercel-billing"


def test_daily_plan_recollects_today_and_advances_only_past_settled_days() -> None:
    plan = DailyPlan.make(datetime(2026, 11, 18, 0, 0), NOW, timedelta(hours=6))
    assert (plan.start, plan.end, plan.windows) == (DAY1, datetime(2026, 11, 21), 3)
    assert plan.complete_through == datetime(2026, 11, 20)
    early = DailyPlan.make(datetime(2026, 11, 18), datetime(2026, 11, 20, 3, 0), timedelta(hours=6))
    assert early.complete_through == datetime(2026, 11, 19)  # yesterday not settled yet


def test_first_run_backfills_and_later_runs_resume_from_the_watermark() -> None:
    assert resume_from(None, NOW, 7) == datetime(2026, 11, 13)
    assert resume_from(datetime(2026, 11, 19), NOW, 7) == datetime(2026, 11, 19)
    assert resume_from(datetime(2020, 1, 1), NOW, 7) == datetime(2024, 11, 20)  # 730 days


def test_deployments_count_builds_and_round_minutes_up_per_build() -> None:
    plan = DailyPlan.make(DAY1, NOW, timedelta(hours=1))
    items = [
        parse_deployment(deployment("a", DAY1 + timedelta(hours=1), 61), "t"),
        parse_deployment(deployment("b", DAY1 + timedelta(hours=2), 30), "t"),
        parse_deployment(deployment("c", DAY1 + timedelta(hours=3), None, state="QUEUED"), "t"),
        # v6: no createdAt (``created`` is the one always sent); an ERROR build with ready 0
        # and no buildingAt counts as a build without minutes.
        parse_deployment(
            {
                k: v
                for k, v in deployment("d", DAY1 + timedelta(hours=4), None, state="ERROR").items()
                if k != "createdAt"
            }
            | {"ready": 0},
            "t",
        ),
        parse_deployment(deployment("e", DAY1 + timedelta(hours=5), None, buildingAt=1), "t"),
    ]
    rows = {
        (r.metric_type, r.start): r.value for r in build_rows(items, plan, "vercel-deployments")
    }
    assert rows[("BUILDS", DAY1)] == 4
    assert rows[("BUILD_MINUTES", DAY1)] == 3  # 2 + 1; d and e add none
    assert rows[("BUILDS", DAY1 + timedelta(days=1))] == 0


def test_deployment_pages_must_have_the_documented_shape() -> None:
    with pytest.raises(PayloadError, match="deployments page 2: 'deployments' is missing"):
        parse_page({"items": []}, 2)
    with pytest.raises(PayloadError, match=r"item 1 \(x\): 'createdAt' should be a number"):
        parse_page({"deployments": [{"uid": "x", "createdAt": "today"}]}, 1)
    _, following = parse_page({"deployments": [], "pagination": {"next": 1700000000000}}, 1)
    assert following == 1700000000000


def test_neon_consumption_becomes_compute_storage_and_egress_per_day() -> None:
    payload = {
        "projects": [
            {
                "project_id": "p-1",
                "periods": [
                    {
                        "consumption": [
                            {
                                "timeframe_start": "2026-11-18T00:00:00Z",
                                "timeframe_end": "2026-11-19T00:00:00Z",
                                "metrics": [
                                    {"metric_name": "compute_unit_seconds", "value": 7200},
                                    {"metric_name": "root_branch_bytes_month", "value": 24e9},
                                    {"metric_name": "child_branch_bytes_month", "value": 24e8},
                                    {"metric_name": "public_network_transfer_bytes", "value": 3e9},
                                ],
                            }
                        ]
                    }
                ],
            }
        ],
        "pagination": {"cursor": "p-1"},
    }
    page = parse_consumption_page(payload, 1)
    values = {r.metric_type: (r.value, r.unit, r.source) for r in page.rows}
    assert values["COMPUTE_HOURS"] == (2.0, "CU-hours", "neon:p-1")
    assert values["STORAGE_MB"][0] == pytest.approx(1100.0)  # 26.4e9 byte-hours / 24 h
    assert values["BANDWIDTH_GB"][0] == pytest.approx(3.0)
    assert (page.projects, page.cursor) == (1, "p-1")
    with pytest.raises(PayloadError, match="consumption page 1: 'projects' is missing"):
        parse_consumption_page({}, 1)


def test_neon_project_counters_become_one_row_per_consumption_period() -> None:
    payload = {
        "project": {
            "data_transfer_bytes": 5e9,
            "written_data_bytes": 1e6,
            "compute_time_seconds": 36_000,
            "active_time_seconds": 40_000,
            "synthetic_storage_size": 2.5e8,
            "consumption_period_start": "2026-11-01T00:00:00Z",
            "consumption_period_end": "2026-12-01T00:00:00Z",
        }
    }
    rows = {r.metric_type: r for r in project_rows(payload, "p-2", NOW)}
    assert rows["COMPUTE_HOURS"].value == 10.0
    assert (rows["COMPUTE_HOURS"].start, rows["COMPUTE_HOURS"].end) == (datetime(2026, 11, 1), NOW)
    assert rows["BANDWIDTH_GB"].value == 5.0
    assert rows["STORAGE_MB"].value == 250.0
    assert rows["STORAGE_MB"].start == datetime(2026, 11, 20)
    with pytest.raises(PayloadError, match="'compute_time_seconds' should be a number"):
        project_rows({"project": payload["project"] | {"compute_time_seconds": "x"}}, "p", NOW)


def test_upstash_stats_become_daily_commands_and_todays_levels() -> None:
    days = [DAY1, DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)]
    plan = DailyPlan.make(DAY1 + timedelta(days=1), NOW, timedelta(hours=1))
    rows = stats_rows(upstash_stats(days, [10, 20, 30], 7_000_000), "db", plan, NOW)
    got = {(r.metric_type, r.start.day): r.value for r in rows}
    assert got == {
        ("OPERATIONS", 19): 20,
        ("OPERATIONS", 20): 30,
        ("BANDWIDTH_GB", 19): pytest.approx(20_000e-9),
        ("BANDWIDTH_GB", 20): pytest.approx(30_000e-9),
        ("STORAGE_MB", 20): 7.0,
        ("LATENCY_MS", 20): 3.0,
    }
    with pytest.raises(PayloadError, match=r"dailyrequests\[0\]: 'y' should be a number >= 0"):
        stats_rows(
            {"dailyrequests": [{"x": "2026-11-18 01:00:00 +0000 UTC", "y": -1}]}, "d", plan, NOW
        )


def test_series_times_in_gos_format_and_iso() -> None:
    assert series_time("2025-08-31 15:12:52.799480932 +0000 UTC", "t") == datetime(
        2025, 8, 31, 15, 12, 52
    )
    assert series_time("2025-08-31T15:12:52+02:00", "t") == datetime(2025, 8, 31, 13, 12, 52)
    with pytest.raises(PayloadError):
        series_time(12, "t")


def test_retry_delay_honours_retry_after_and_vercel_reset_in_seconds_or_ms() -> None:
    now = 1_800_000_000.0
    assert retry_delay({"retry-after": "7"}, b"", now) == 7
    body = b'{"error": {"code": "rate_limited", "limit": {"reset": 1800000012}}}'
    assert retry_delay({}, body, now) == 12
    body_ms = b'{"error": {"limit": {"reset": 1800000003000}}}'
    assert retry_delay({}, body_ms, now) == 3
    assert retry_delay({}, b'{"error": {"limit": {"resetMs": 1800000001500}}}', now) == 1.5
    assert retry_delay({}, b"not json", now) is None
    assert retry_delay({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, b"", now) == 0


def test_the_same_window_twice_or_overlapping_windows_in_one_batch_are_found() -> None:
    day = MetricRow("VERCEL_KV", "OPERATIONS", 1, DAY1, DAY1 + timedelta(days=1), "upstash:a")
    assert conflicting_windows([day]) is None
    assert conflicting_windows([day, day]) == (
        "the same window twice: upstash:a VERCEL_KV/OPERATIONS at 2026-11-18 00:00"
    )
    # The same day hourly, or aligned to another time zone: overlapping windows.
    hour = MetricRow(
        "VERCEL_KV",
        "OPERATIONS",
        1,
        DAY1 + timedelta(hours=5),
        DAY1 + timedelta(hours=6),
        "upstash:a",
    )
    found = conflicting_windows([hour, day]) or ""
    assert found.startswith(
        "overlapping windows: upstash:a VERCEL_KV/OPERATIONS 2026-11-18 00:00..2026-11-19 00:00 "
        "and 2026-11-18 05:00..2026-11-18 06:00"
    )
    # Other projects, other series: no conflict.
    other = MetricRow(
        "VERCEL_KV", "OPERATIONS", 1, DAY1, DAY1 + timedelta(days=1), "upstash:a", project="p2"
    )
    assert conflicting_windows([day, other]) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UPSTASH_EMAIL": "a@b.c"}, "UPSTASH_EMAIL set but UPSTASH_API_KEY, UPSTASH_DATABASE_IDS"),
        ({"NEON_API_KEY": "k"}, "NEON_API_KEY set but neither NEON_PROJECT_ID nor NEON_ORG_ID"),
        ({"NEON_PROJECT_ID": "p"}, "NEON_PROJECT_ID or NEON_ORG_ID set but NEON_API_KEY missing"),
        ({"VERCEL_TEAM_ID": "t"}, "VERCEL_TEAM_ID set but VERCEL_TOKEN missing"),
        ({"VERCEL_TOKEN": "t", "VERCEL_API_URL": "ftp://x"}, "VERCEL_API_URL must be an http"),
        ({"COLLECT_BACKFILL_DAYS": "0"}, "COLLECT_BACKFILL_DAYS must be between 1 and 730"),
        ({"COLLECT_BACKFILL_DAYS": "week"}, "COLLECT_BACKFILL_DAYS must be a whole number"),
        ({"NEON_API_KEY": "k", "NEON_PROJECT_ID": "a/b"}, "NEON_PROJECT_ID: 'a/b' is not an id"),
        ({"COLLECT_HTTP_TIMEOUT": "fast"}, "COLLECT_HTTP_TIMEOUT must be a number"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message):
        config.from_env(env)


def test_sources_are_enabled_by_their_credentials() -> None:
    assert not config.from_env({}).any_source
    cfg = config.from_env(
        {
            "VERCEL_TOKEN": "t",
            "NEON_API_KEY": "k",
            "NEON_ORG_ID": "org",
            "UPSTASH_EMAIL": "e",
            "UPSTASH_API_KEY": "k",
            "UPSTASH_DATABASE_IDS": "a, b",
        }
    )
    assert cfg.vercel and cfg.vercel.base_url == "https://api.vercel.com"
    assert cfg.neon and cfg.neon.base_url == "https://console.neon.tech/api/v2"
    assert cfg.upstash and cfg.upstash.database_ids == ("a", "b")
    assert cfg.backfill_days == 7


@pytest.mark.parametrize(
    ("name", "first", "expected"),
    [
        ("export.csv", '{"a": 1}', "csv"),
        ("export.jsonl.gz", "BilledCost,", "jsonl"),
        ("export.csv.gz", "", "csv"),
        ("export", '  {"BilledCost": 1}', "jsonl"),
        ("export.txt", "BilledCost,ServiceName", "csv"),
    ],
)
def test_focus_files_are_recognised_by_extension_then_content(
    name: str, first: str, expected: str
) -> None:
    assert file_format(Path(name), first) == expected


class _LinesOnly(io.StringIO):
    """A file that may be read line by line but never whole, and fails at line 3."""

    def read(self, size: int | None = -1) -> str:
        raise AssertionError("the whole file was read at once")

    def readline(self, size: int | None = -1) -> str:
        line = super().readline()
        if line.startswith("BOOM"):
            raise AssertionError("read past the record asked for")
        return line


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("jsonl", '{"a": 1}\n{"a": 2}\nBOOM\n'),
        ("csv", "ServiceName,a\nx,1\ny,2\nBOOM\n"),
    ],
)
def test_focus_files_are_streamed_record_by_record(kind: str, text: str) -> None:
    found = records(Path("export"), _LinesOnly(text), kind)
    first = next(found)
    assert first[0] == (1 if kind == "jsonl" else 2)
    next(found)  # the second record, still without reading the third line
    with pytest.raises(AssertionError, match="read past"):
        next(found)
