"""Write the demo's FOCUS exports and limits files, deterministically.

Two Vercel teams, 2026-10-01 .. 2026-11-15 (Pacific days, as Vercel's billing API cuts
them: 07:00Z -> 07:00Z in summer time, 08:00Z -> 08:00Z after 2026-11-01):

- ``hobby-team``: a Hobby team whose traffic doubled with a launch on Nov 1. Mid-month
  every hard limit is still below 100 %, but the forecast crosses several of them within
  the week: `recommend` makes one upgrade decision for the team, with a real ROI (the demo
  limits file sets the business inputs).
- ``pro-team``: a Pro team (a "Pro" purchase line) past its 1 TB of Fast Data Transfer, its
  10M Edge Requests and its $20 usage credit, paying on-demand overage: about $40 spent
  mid-month, its budget of $150 is crossed by the forecast, not yet by the money.

Lines have the real shape (REFERENCE.md section 3): BilledCost and EffectiveCost, observed
ServiceName and ConsumedUnit spellings, null quantity and unit on the purchase line, Tags
with ProjectId and ProjectName. Run from the repository root:

    python samples/make_samples.py          # rewrite the files in samples/
    python samples/make_samples.py --check  # exit 1 if a committed file differs
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PACIFIC = ZoneInfo("America/Los_Angeles")
FIRST, LAST = date(2026, 10, 1), date(2026, 11, 15)
LAUNCH = date(2026, 11, 1)


@dataclass(frozen=True)
class Meter:
    service_name: str  # FOCUS ServiceName as observed
    unit: str  # FOCUS ConsumedUnit as observed
    service: str  # our InfrastructureService
    metric: str  # our MetricType
    to_canonical: float  # one ConsumedUnit in the metric's canonical unit
    hobby_limit: float  # canonical units (the Hobby hard limit, limits.yaml)
    rate: float  # on-demand USD per ConsumedUnit on Pro
    pro_included: float  # ConsumedUnits included on Pro before billing (0: draws the credit)
    level: bool = False  # storage: the daily line is the day's share of a GB-month


METERS = (
    Meter("Fast Data Transfer", "gigabyte", "VERCEL_BANDWIDTH", "BANDWIDTH_GB", 1, 100, 0.15, 1000),
    Meter("Edge Requests", "Requests", "VERCEL_EDGE_REQUESTS", "REQUESTS", 1, 1e6, 2e-6, 10e6),
    Meter(
        "Function Invocations", "Invocations", "VERCEL_FUNCTIONS", "INVOCATIONS", 1, 1e6, 6e-7, 0
    ),
    Meter("Fluid Active CPU", "hour", "VERCEL_FUNCTIONS", "CPU_HOURS", 1, 4, 0.128, 0),
    Meter(
        "Fluid Provisioned Memory", "gigabyte-hour", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS",
        1, 360, 0.0106, 0,
    ),
    Meter(
        "Image Optimization Transformation", "Units", "VERCEL_IMAGE_OPTIMIZATION", "OPERATIONS",
        1, 5000, 5e-5, 0,
    ),
    Meter(
        "Blob Storage Size", "gigabyte-month", "VERCEL_BLOB", "STORAGE_MB", 1000, 1000, 0.023, 0,
        level=True,
    ),
    Meter(
        "Blob Simple Operations", "Operations", "VERCEL_BLOB", "READ_OPERATIONS", 1, 1e4, 4e-7, 0
    ),
    Meter(
        "Global Config Reads (formerly known as Edge Config Reads)", "Reads",
        "VERCEL_EDGE_CONFIG", "READ_OPERATIONS", 1, 1e5, 3e-6, 0,
    ),
)  # fmt: skip

# Share of the Hobby limit each meter uses over Nov 1-15 (October ran at about half its
# limit): every one below 100 % mid-month; the forecast crosses the first few soon after.
HOBBY_SHARE = {
    "Fluid Active CPU": 0.72,
    "Image Optimization Transformation": 0.66,
    "Global Config Reads (formerly known as Edge Config Reads)": 0.6,
    "Fast Data Transfer": 0.5,
    "Blob Simple Operations": 0.42,
    "Edge Requests": 0.38,
    "Function Invocations": 0.33,
    "Fluid Provisioned Memory": 0.3,
    "Blob Storage Size": 0.62,  # a level: the share of 1 GB held
}
# The Pro team: ConsumedUnits per day in November (October ran at 70 %).
PRO_DAILY = {
    "Fast Data Transfer": 75.0,  # past Pro's 1 TB in mid-November
    "Edge Requests": 750_000.0,  # past Pro's 10M in mid-November
    "Function Invocations": 350_000.0,
    "Fluid Active CPU": 3.2,
    "Fluid Provisioned Memory": 40.0,
    "Image Optimization Transformation": 9_000.0,
    "Blob Storage Size": 6.0,  # GB held
    "Blob Simple Operations": 60_000.0,
    "Global Config Reads (formerly known as Edge Config Reads)": 90_000.0,
}
# USD per month: the team's budget, and its main project's.
BUDGETS = {"hobby-team": (25, 20), "pro-team": (150, 100)}
PROJECTS = {
    "hobby-team": (("prj_4sTf8", "storefront", 0.65), ("prj_9dQx2", "docs", 0.35)),
    "pro-team": (("prj_7hW1c", "shop", 0.7), ("prj_2mZr5", "api", 0.3)),
}


def pacific_day(day: date) -> tuple[datetime, datetime]:
    """A Pacific calendar day in UTC: 07:00Z in summer time, 08:00Z in winter."""

    def start(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=PACIFIC).astimezone(UTC)

    return start(day), start(day + timedelta(days=1))


def days() -> Iterator[date]:
    day = FIRST
    while day <= LAST:
        yield day
        day += timedelta(days=1)


def _month_days(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day


def daily_usage(team: str) -> dict[tuple[str, date], float]:
    """ConsumedUnits per meter and day (a level: the GB held that day)."""
    rng = random.Random(f"{team}-2026")
    usage = {}
    for meter in METERS:
        for day in days():
            noise = 1 + rng.uniform(-0.08, 0.08)
            weekend = 0.8 if day.weekday() >= 5 else 1.05
            if team == "hobby-team":
                share = HOBBY_SHARE[meter.service_name]
                limit = meter.hobby_limit / meter.to_canonical
                if meter.level:  # the storage held grows steadily
                    value = limit * share * (0.7 + 0.3 * (day - FIRST).days / (LAST - FIRST).days)
                    noise = weekend = 1.0
                elif day < LAUNCH:
                    value = limit * 0.5 / 31
                else:  # a launch: twice the traffic, growing 1.5 % a day
                    n = (day - LAUNCH).days
                    value = limit * share / 16.575 * (1 + 0.015 * n)
            else:
                value = PRO_DAILY[meter.service_name] * (1.0 if day >= LAUNCH else 0.7)
                if meter.level:
                    noise = weekend = 1.0
            usage[(meter.service_name, day)] = value * noise * weekend
    return usage


def _line(
    team: str, meter: Meter, day: date, quantity: float, billed: float, effective: float
) -> Iterator[dict[str, object]]:
    start, end = pacific_day(day)
    if meter.level:  # billed as GB-months: the day's share of a month
        quantity = quantity / _month_days(day)
    for project_id, project, share in PROJECTS[team]:
        yield {
            "BilledCost": round(billed * share, 6),
            "BillingCurrency": "USD",
            "ChargeCategory": "Usage",
            "ChargePeriodStart": f"{start:%Y-%m-%dT%H:%M:%S.000Z}",
            "ChargePeriodEnd": f"{end:%Y-%m-%dT%H:%M:%S.000Z}",
            "ConsumedQuantity": round(quantity * share, 6),
            "ConsumedUnit": meter.unit,
            "EffectiveCost": round(effective * share, 6),
            "PricingCategory": "Standard",
            "PricingCurrency": "USD",
            "PricingQuantity": round(quantity * share, 6),
            "PricingUnit": meter.unit,
            "RegionId": "iad1",
            "RegionName": "Washington, D.C., USA",
            "ServiceCategory": "Networking" if "Transfer" in meter.service_name else "Compute",
            "ServiceName": meter.service_name,
            "ServiceProviderName": "Vercel",
            "Tags": {"ProjectId": project_id, "ProjectName": project},
        }


def _pro_purchase(month: date) -> dict[str, object]:
    start, _ = pacific_day(month)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end, _ = pacific_day(following)
    return {
        "BilledCost": 20.0,
        "BillingCurrency": "USD",
        "ChargeCategory": "Purchase",
        "ChargePeriodStart": f"{start:%Y-%m-%dT%H:%M:%S.000Z}",
        "ChargePeriodEnd": f"{end:%Y-%m-%dT%H:%M:%S.000Z}",
        "ConsumedQuantity": None,
        "ConsumedUnit": None,
        "EffectiveCost": 20.0,
        "PricingCategory": "Committed",
        "PricingCurrency": "USD",
        "PricingQuantity": 1,
        "PricingUnit": "USD",
        "ServiceName": "Pro",
        "ServiceProviderName": "Vercel",
        "Tags": {},
    }


def focus_lines(team: str) -> list[dict[str, object]]:
    """The team's FOCUS export. Hobby bills nothing. Pro: meters with an allowance bill
    beyond it; the others draw the month's $20 credit first (EffectiveCost carries the
    amortised cost, BilledCost only what is billed on demand)."""
    usage = daily_usage(team)
    lines: list[dict[str, object]] = []
    if team == "pro-team":
        lines += [_pro_purchase(date(2026, 10, 1)), _pro_purchase(LAUNCH)]
    credit_left: dict[int, float] = {}
    used: dict[tuple[str, int], float] = {}
    for day in days():
        for meter in METERS:
            quantity = usage[(meter.service_name, day)]
            billed = effective = 0.0
            if team == "pro-team":
                billable = quantity / _month_days(day) if meter.level else quantity
                if meter.pro_included:
                    before = used.get((meter.service_name, day.month), 0.0)
                    used[(meter.service_name, day.month)] = before + billable
                    over = max(0.0, before + billable - meter.pro_included) - max(
                        0.0, before - meter.pro_included
                    )
                    billed = effective = over * meter.rate
                else:
                    cost = billable * meter.rate
                    left = credit_left.setdefault(day.month, 20.0)
                    drawn = min(left, cost)
                    credit_left[day.month] = left - drawn
                    effective, billed = cost, cost - drawn
            lines += _line(team, meter, day, quantity, billed, effective)
    return lines


def limits_text(team: str) -> str:
    """The demo's limits file: limits.yaml with the team's plan, business inputs, budget."""
    text = (ROOT / "limits.yaml").read_text(encoding="utf-8")
    plan = "vercel-hobby" if team == "hobby-team" else "vercel-pro"
    replacements = {
        "  monthly_revenue_usd: 0  #": "  monthly_revenue_usd: 6000  #",
        "  degraded_hours: 0  #": "  degraded_hours: 72  #",
        "vercel-team: {plan: vercel-hobby}": f"vercel-team: {{plan: {plan}}}",
        "VERCEL_FUNCTIONS: {account: vercel-team, revenue_share: 0}": (
            "VERCEL_FUNCTIONS: {account: vercel-team, revenue_share: 0.6}"
        ),
        "VERCEL_BANDWIDTH: {account: vercel-team, revenue_share: 0}": (
            "VERCEL_BANDWIDTH: {account: vercel-team, revenue_share: 0.8}"
        ),
        "# budgets:\n#   - {account: vercel-team, monthly_usd: 50}": (
            f"budgets:\n  - {{account: vercel-team, monthly_usd: {BUDGETS[team][0]}}}\n"
            f"  - {{account: vercel-team, project: {PROJECTS[team][0][1]}, "
            f"monthly_usd: {BUDGETS[team][1]}}}"
        ),
    }
    for old, new in replacements.items():
        if old not in text:
            raise SystemExit(f"make_samples: limits.yaml no longer contains {old!r}")
        text = text.replace(old, new)
    head = (
        f"# GENERATED by samples/make_samples.py from limits.yaml: the {team} demo (its plan,\n"
        "# business inputs and budgets). Edit limits.yaml or the generator, not this file.\n"
    )
    return head + text


def outputs() -> dict[Path, str]:
    files = {}
    for team in PROJECTS:
        lines = focus_lines(team)
        files[ROOT / "samples" / f"{team}.focus.jsonl"] = "".join(
            json.dumps(line, separators=(",", ":")) + "\n" for line in lines
        )
        files[ROOT / "samples" / f"{team}.limits.yaml"] = limits_text(team)
    return files


def main(argv: list[str]) -> int:
    stale = []
    for path, text in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale, run python samples/make_samples.py: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
