"""One realistic, deterministic day of the jobs: collect (APIs and a FOCUS file) -> recommend.

Used where the whole flow must run end to end: as the least-privileged jobs role, under
fault injection, with secrets in the environment. Every window lies on a complete past day
(today's only windows are the deployments' zeros), so two runs on the same day write the
same rows, and ``recommend --now`` at noon gives the same advice. Fast Data Transfer runs
at 8 GB a day against Hobby's hard 100 GB, so recommend always opens a recommendation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from jobs.collect.records import day_start
from jobs.collect.runner import utc_now
from tests.support.fake_apis import FakeApis, charge, deployment

HISTORY_DAYS = 40  # complete days before today, every one collected on the first run
NEON_PROJECT = "ep-workload"

# Table contents that depend on the data alone, not on when rows were written: every column
# except ids and write times (createdAt, updatedAt; an assessment's dataThrough is the write
# time of today's windows by design, see sql/queries/recommend.sql period_points).
COMPARED: Mapping[str, tuple[str, ...]] = {
    "InfrastructureMetric": (
        "service",
        "metricType",
        "value",
        "unit",
        "timestamp",
        "windowEnd",
        "source",
        "metadata",
    ),
    "UsageAssessment": (
        "service",
        "metricType",
        "periodStart",
        "periodEnd",
        "plan",
        "limitValue",
        "unit",
        "state",
        "stateSince",
        "pendingState",
        "usage",
        "utilisation",
        "method",
        "forecastMean",
        "forecastLower",
        "forecastUpper",
        "breachAt",
        "breachAtUpper",
        "backtest",
        "points",
        "evaluatedAt",
    ),
    "UpgradeRecommendation": (
        "service",
        "currentPlan",
        "recommendedPlan",
        "priority",
        "status",
        "title",
        "reasoning",
        "currentUsage",
        "projectedUsage",
        "projectedBreachAt",
        "currentMonthlyCost",
        "projectedMonthlyCost",
        "upgradedMonthlyCost",
        "overageAvoided",
        "revenueAtRisk",
        "roi",
        "paybackDays",
        "confidence",
        "evidence",
        "reviewHistory",
        "reviewedBy",
        "reviewedAt",
        "expiresAt",
        "lastSeenAt",
    ),
    "CollectionWatermark": ("source", "collectedThrough"),
}


@dataclass(frozen=True)
class Workload:
    today: datetime

    @classmethod
    def for_today(cls) -> Workload:
        return cls(day_start(utc_now()))

    @property
    def days(self) -> list[datetime]:
        return [self.today - timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]

    @property
    def now(self) -> str:
        """``recommend --now``: noon today, the same for every run of the day."""
        return (self.today + timedelta(hours=12)).isoformat(timespec="minutes")

    def populate(self, apis: FakeApis) -> None:
        apis.charges = []
        apis.deployments = []
        for n, day in enumerate(self.days):
            apis.charges += [
                charge(day, "Fast Data Transfer", 8.0 + (n % 3) * 0.25, "GB", 0.0),
                charge(day, "Edge Requests", 20_000 + 500 * n, "Requests", 0.0),
                charge(day, "Function Invocations", 3_000 + 10 * n, "Invocations", 0.01),
            ]
            apis.deployments.append(deployment(f"dpl_{n}", day + timedelta(hours=9), 60 + n))
        # The team's plan as a purchase line (no quantity, no unit), as Vercel bills Pro.
        pro = charge(self.days[0], "Pro", 0, "", 20.0, category="Purchase")
        apis.charges.append(pro | {"ConsumedQuantity": None, "ConsumedUnit": None})
        apis.neon_consumption = [
            {
                "project_id": NEON_PROJECT,
                "consumption": [
                    {
                        "timeframe_start": f"{day:%Y-%m-%d}T00:00:00Z",
                        "timeframe_end": f"{day + timedelta(days=1):%Y-%m-%d}T00:00:00Z",
                        "metrics": [
                            {"metric_name": "compute_unit_seconds", "value": 7200 + 60 * n},
                            {"metric_name": "root_branch_bytes_month", "value": 2.4e9 * 24},
                            {"metric_name": "public_network_transfer_bytes", "value": 5e7},
                        ],
                    }
                    for n, day in enumerate(self.days)
                ],
            }
        ]

    def env(self, apis: FakeApis) -> dict[str, str]:
        """The sources enabled against ``apis``; retries kept few and short."""
        return apis.env(vercel=True, neon="org") | {
            "COLLECT_BACKFILL_DAYS": str(HISTORY_DAYS),
            "COLLECT_RETRY_ATTEMPTS": "2",
            "COLLECT_RETRY_BUDGET": "30",
            "COLLECT_HTTP_TIMEOUT": "10",
        }

    def focus_file(self, directory: Path) -> Path:
        """A FOCUS export of another provider (its own stream, ``focus:Neon``)."""
        path = directory / "neon-export.jsonl"
        lines = [
            charge(day, "Neon Postgres", 0.4 + 0.01 * n, "CU-hours", 0.05, provider="Neon")
            for n, day in enumerate(self.days)
        ]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        return path

    def recommend_args(self) -> list[str]:
        return ["recommend", "--now", self.now]


def _normal(value: Any) -> Any:
    """Values as comparable, hashable text (JSON with sorted keys for jsonb)."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def snapshot(dsn: str, tables: Sequence[str] = tuple(COMPARED)) -> dict[str, list[tuple]]:
    """The compared columns of every row of ``tables``, sorted: a multiset per table, so a
    lost or duplicated row shows as a difference."""
    found: dict[str, list[tuple]] = {}
    with psycopg.connect(dsn) as conn:
        for table in tables:
            columns = ", ".join(f'"{c}"' for c in COMPARED[table])
            rows = conn.execute(f'SELECT {columns} FROM "{table}"').fetchall()
            found[table] = sorted(
                (tuple(_normal(v) for v in row) for row in rows), key=lambda r: repr(r)
            )
    return found
