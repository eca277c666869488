"""The shipped limits.yaml validates, and its numbers are the ones in REFERENCE sections 3-5.

tests/data/reference_plans.md is a verbatim copy of those sections' plan facts. This test
parses it with its own small parser and unit table (not jobs.limits.quantities), so a
mistake in the loader's conversions cannot hide behind the same mistake here.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import pytest

from jobs.limits.loader import load
from jobs.limits.model import LimitKind, LimitsFile
from jobs.model import SERVICES
from jobs.paths import DEFAULT_LIMITS_FILE

REFERENCE = (Path(__file__).parent / "data" / "reference_plans.md").read_text(encoding="utf-8")

# Which service x metric each meter of the Vercel table is, written out independently.
VERCEL_METERS = {
    "Fast Data Transfer": [("VERCEL_BANDWIDTH", "BANDWIDTH_GB")],
    "Fast Origin Transfer": [("VERCEL_ORIGIN_TRANSFER", "BANDWIDTH_GB")],
    "Edge Requests": [("VERCEL_EDGE_REQUESTS", "REQUESTS")],
    "Function invocations": [("VERCEL_FUNCTIONS", "INVOCATIONS")],
    "Active CPU": [("VERCEL_FUNCTIONS", "CPU_HOURS")],
    "Provisioned memory": [("VERCEL_FUNCTIONS", "MEMORY_GB_HOURS")],
    "Build": [("VERCEL_BUILD", "BUILD_MINUTES")],
    "Image transformations": [("VERCEL_IMAGE_OPTIMIZATION", "OPERATIONS")],
    "Blob storage": [("VERCEL_BLOB", "STORAGE_MB")],
    "Blob simple / advanced ops": [
        ("VERCEL_BLOB", "READ_OPERATIONS"),
        ("VERCEL_BLOB", "WRITE_OPERATIONS"),
    ],
    "Blob data transfer": [("VERCEL_BLOB", "BANDWIDTH_GB")],
    "Edge (Global) Config reads / writes": [
        ("VERCEL_EDGE_CONFIG", "READ_OPERATIONS"),
        ("VERCEL_EDGE_CONFIG", "WRITE_OPERATIONS"),
    ],
    "Web Analytics events": [("VERCEL_WEB_ANALYTICS", "EVENTS")],
}
# Storage is kept in MB; every other unit of the table is already the canonical one.
TO_CANONICAL = {"GB-month": 1000.0, "MB": 1.0}
# A row the file has beyond the fact sheet, with its own source (Neon's plans page).
BEYOND_REFERENCE = {("VERCEL_POSTGRES", "STORAGE_MB", "neon-scale")}
# ISR: the fact sheet gives Hobby's amounts; Pro's prices come from the page it names.
ISR_ROWS = {
    ("VERCEL_ISR", metric, plan)
    for metric in ("READ_OPERATIONS", "WRITE_OPERATIONS")
    for plan in ("vercel-hobby", "vercel-pro")
}


@pytest.fixture(scope="module")
def limits() -> LimitsFile:
    return load(DEFAULT_LIMITS_FILE)


def amount(text: str) -> float:
    """'6,000 min' -> 6000; '1 GB-month' -> 1000 (MB); '10K' -> 10000; '1 TB incl.' -> 1000."""
    match = re.fullmatch(r"([\d,.]+)([KM]?)\s*([A-Za-z-]*)(?: incl\.)?", text.strip())
    assert match, text
    value = float(match[1].replace(",", "")) * {"": 1, "K": 1e3, "M": 1e6}[match[2]]
    return value * {"TB": 1000.0}.get(match[3], TO_CANONICAL.get(match[3], 1.0))


def unit_price(text: str) -> float:
    """'$2.00/1M' -> 2e-06; '$5.00 per 500' -> 0.01; '$0.023/GB-month' -> per MB."""
    match = re.fullmatch(r"\$([\d.]+)(?:/| per )([\d,.]*[KM]?)\s*([A-Za-z-]*)", text.strip())
    assert match, text
    per = amount(match[2]) if match[2] else 1.0
    return float(match[1]) / per / TO_CANONICAL.get(match[3], 1.0)


def vercel_table() -> dict[tuple[str, str], tuple[float, str, float]]:
    """(service, metric) -> (Hobby amount, Pro cell, on-demand unit price)."""
    found = {}
    for line in REFERENCE.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] not in VERCEL_METERS:
            continue
        meters = VERCEL_METERS[cells[0]]
        hobby, prices = cells[1].split(" / "), cells[3].split(" / ")
        assert len(hobby) == len(prices) == len(meters), line
        for meter, included, price in zip(meters, hobby, prices, strict=True):
            found[meter] = (amount(included), cells[2], unit_price(price))
    assert len(found) == 15
    return found


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-12)


def test_the_shipped_file_validates(limits: LimitsFile) -> None:
    assert len(limits.limits) >= 40
    # VERCEL_OTHER holds the cost of meters that have no limit: no plan to be on.
    assert {s.service for s in limits.services} == set(SERVICES) - {"VERCEL_OTHER"}
    # Safe defaults: no revenue is claimed until someone writes it in.
    assert limits.business.monthly_revenue_usd == 0
    assert all(s.revenue_share == 0 for s in limits.services)
    assert (limits.thresholds.warning, limits.thresholds.critical) == (0.75, 0.9)
    assert limits.thresholds.resolve < limits.thresholds.warning


def test_vercel_hobby_and_pro_match_the_reference(limits: LimitsFile) -> None:
    credit = float(re.search(r"\$(\d+) usage credit", REFERENCE)[1])  # type: ignore[index]
    pro_price = float(re.search(r"Pro: \$(\d+)/month", REFERENCE)[1])  # type: ignore[index]
    assert (
        limits.plan("vercel-pro").monthly_price_usd,
        limits.plan("vercel-pro").usage_credit_usd,
    ) == (
        pro_price,
        credit,
    )
    assert limits.plan("vercel-hobby").monthly_price_usd == 0  # "Hobby: free"
    assert limits.plan("vercel-hobby").upgrades_to == ("vercel-pro",)

    for (service, metric), (hobby_amount, pro_cell, price) in vercel_table().items():
        hobby = limits.limit(service, metric, "vercel-hobby")
        assert hobby is not None, (service, metric)
        assert hobby.kind is LimitKind.ALLOWANCE and hobby.is_hard, (service, metric)
        assert close(hobby.limit_value, hobby_amount), (service, metric, hobby.limit_value)
        assert hobby.overage_unit_price == 0

        pro = limits.limit(service, metric, "vercel-pro")
        assert pro is not None, (service, metric)
        assert not pro.is_hard
        assert close(pro.overage_unit_price, price), (service, metric, pro.overage_unit_price)
        if pro_cell.endswith("incl."):
            assert pro.kind is LimitKind.ALLOWANCE
            assert close(pro.limit_value, amount(pro_cell))
            assert close(pro.included_amount, amount(pro_cell))
        elif pro_cell == "credit":
            assert pro.kind is LimitKind.CREDIT
            assert pro.included_amount == 0
            assert close(pro.limit_value, credit / price)
        else:
            assert pro_cell == "—"
            assert pro.kind is LimitKind.NONE and pro.limit_value is None


def test_neon_plans_match_the_reference(limits: LimitsFile) -> None:
    free = re.search(
        r"Free ([\d.]+) GB storage/project, (\d+) CU-hours/project/month, (\d+) GB egress",
        REFERENCE,
    )
    launch = re.search(
        r"Launch \$([\d.]+)/CU-h, \$([\d.]+)/GB-month, (\d+) GB egress then \$([\d.]+)/GB",
        REFERENCE,
    )
    scale = re.search(r"Scale \$([\d.]+)/CU-h", REFERENCE)
    assert free and launch and scale

    def limit(metric: str, plan: str) -> tuple[LimitKind, float | None, float, bool]:
        found = limits.limit("VERCEL_POSTGRES", metric, plan)
        assert found is not None, (metric, plan)
        return found.kind, found.limit_value, found.overage_unit_price, found.is_hard

    allowance, none = LimitKind.ALLOWANCE, LimitKind.NONE
    assert limit("STORAGE_MB", "neon-free") == (allowance, float(free[1]) * 1000, 0, True)
    assert limit("COMPUTE_HOURS", "neon-free") == (allowance, float(free[2]), 0, True)
    assert limit("BANDWIDTH_GB", "neon-free") == (allowance, float(free[3]), 0, True)
    assert limit("COMPUTE_HOURS", "neon-launch") == (none, None, float(launch[1]), False)
    kind, value, price, hard = limit("STORAGE_MB", "neon-launch")
    assert (kind, value, hard) == (none, None, False) and close(price, float(launch[2]) / 1000)
    assert limit("BANDWIDTH_GB", "neon-launch") == (
        allowance,
        float(launch[3]),
        float(launch[4]),
        False,
    )
    assert limit("COMPUTE_HOURS", "neon-scale") == (none, None, float(scale[1]), False)
    assert limits.active_plan("VERCEL_POSTGRES") == "neon-free"


def test_upstash_plans_match_the_reference(limits: LimitsFile) -> None:
    free = re.search(r"Free (\d+) MB, (\d+)K commands/month, (\d+) GB bandwidth", REFERENCE)
    payg = re.search(
        r"pay-as-you-go \$([\d.]+)/100K commands, \$([\d.]+)/GB-month storage beyond (\d+) GB",
        REFERENCE,
    )
    assert free and payg

    def limit(metric: str, plan: str) -> tuple[LimitKind, float | None, float, float, bool]:
        found = limits.limit("VERCEL_KV", metric, plan)
        assert found is not None, (metric, plan)
        return (
            found.kind,
            found.limit_value,
            found.included_amount,
            found.overage_unit_price,
            found.is_hard,
        )

    allowance = LimitKind.ALLOWANCE
    assert limit("STORAGE_MB", "upstash-free") == (
        allowance,
        float(free[1]),
        float(free[1]),
        0,
        True,
    )
    assert limit("OPERATIONS", "upstash-free")[:2] == (allowance, float(free[2]) * 1000)
    assert limit("BANDWIDTH_GB", "upstash-free")[:2] == (allowance, float(free[3]))
    kind, value, _, price, hard = limit("OPERATIONS", "upstash-payg")
    assert (kind, value, hard) == (LimitKind.NONE, None, False)
    assert close(price, float(payg[1]) / 100_000)
    kind, value, included, price, hard = limit("STORAGE_MB", "upstash-payg")
    assert (kind, hard) == (allowance, False)
    assert close(value, float(payg[3]) * 1000) and close(included, float(payg[3]) * 1000)
    assert close(price, float(payg[2]) / 1000)
    assert limits.active_plan("VERCEL_KV") == "upstash-free"


def test_every_row_comes_from_the_reference_with_provenance(limits: LimitsFile) -> None:
    covered = {(s, m, p) for s, m in vercel_table() for p in ("vercel-hobby", "vercel-pro")}
    covered |= {("VERCEL_POSTGRES", m, "neon-free") for m in ("STORAGE_MB", "COMPUTE_HOURS")}
    covered |= {
        ("VERCEL_POSTGRES", "BANDWIDTH_GB", "neon-free"),
        ("VERCEL_POSTGRES", "COMPUTE_HOURS", "neon-launch"),
        ("VERCEL_POSTGRES", "STORAGE_MB", "neon-launch"),
        ("VERCEL_POSTGRES", "BANDWIDTH_GB", "neon-launch"),
        ("VERCEL_POSTGRES", "COMPUTE_HOURS", "neon-scale"),
    }
    covered |= {
        ("VERCEL_KV", m, "upstash-free") for m in ("STORAGE_MB", "OPERATIONS", "BANDWIDTH_GB")
    }
    covered |= {
        ("VERCEL_KV", "OPERATIONS", "upstash-payg"),
        ("VERCEL_KV", "STORAGE_MB", "upstash-payg"),
    }
    assert {x.key for x in limits.limits} == covered | BEYOND_REFERENCE | ISR_ROWS

    reference_paths = re.search(r"Sources: (.*?)\. Record", REFERENCE)
    assert reference_paths
    vercel_pages = {
        "/docs" + p.split("/docs", 1)[-1].strip() for p in reference_paths[1].split(",")
    }
    hosts = {
        "Vercel": "https://vercel.com",
        "Neon": "https://neon.com",
        "Upstash": "https://upstash.com",
    }
    for limit in limits.limits:
        plan = limits.plan(limit.plan)
        assert limit.source.read >= date(2026, 11, 25), limit.key
        assert limit.source.url.startswith(hosts[plan.vendor] + "/"), limit.key
        if plan.vendor == "Vercel":
            assert limit.source.url.removeprefix("https://vercel.com") in vercel_pages, limit.key


def test_isr_reads_and_writes_match_the_reference(limits: LimitsFile) -> None:
    row = re.search(r"\| ISR reads / writes \| (\S+) / (\S+) \| credit \|", REFERENCE)
    assert row
    for metric, included in (("READ_OPERATIONS", row[1]), ("WRITE_OPERATIONS", row[2])):
        hobby = limits.limit("VERCEL_ISR", metric, "vercel-hobby")
        assert hobby is not None and hobby.is_hard
        assert close(hobby.limit_value, amount(included))
        pro = limits.limit("VERCEL_ISR", metric, "vercel-pro")
        assert pro is not None and pro.kind is LimitKind.CREDIT and pro.overage_unit_price > 0
        assert pro.source.url.endswith("/incremental-static-regeneration/limits-and-pricing")
