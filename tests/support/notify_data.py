"""Rows the notify tests start from: assessments, watermarks and recommendations, written
with plain SQL as `recommend` and `collect` would have left them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from jobs.cli import main
from jobs.usage import BillingPeriod
from tests.support.fake_receivers import FakeReceivers

NOW = datetime(2026, 11, 20, 12, 0)

CONFIG = """\
settings:
  repeat_interval_hours: 24
  forecast_days: 7
  deadman_after_hours: 6
  stale_after_hours: 2
  max_attempts: 3
receivers:
  slack: {type: slack, env: SLACK_WEBHOOK_URL}
  hook: {type: webhook, env: NOTIFY_WEBHOOK_URL}
routes:
  - receiver: slack
    match: {severity: [critical, warning]}
    continue: true
  - receiver: hook
    match: {severity: [critical, warning]}
"""


def put_assessment(
    dsn: str,
    service: str,
    metric: str,
    state: str,
    *,
    plan: str = "vercel-hobby",
    limit: float = 100.0,
    usage: float = 80.0,
    breach_at: datetime | None = None,
    breach_at_upper: datetime | None = None,
    since: datetime = NOW - timedelta(hours=3),
    now: datetime = NOW,
) -> None:
    period = BillingPeriod.containing(now)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO "UsageAssessment" (service, "metricType", "periodStart", "periodEnd",
                plan, "limitValue", unit, state, "stateSince", usage, utilisation,
                "dataThrough", "forecastMean", "forecastLower", "forecastUpper", "breachAt",
                "breachAtUpper", points, "evaluatedAt")
            VALUES (%(service)s, %(metric)s, %(start)s, %(end)s, %(plan)s, %(limit)s, 'GB',
                %(state)s, %(since)s, %(usage)s, %(usage)s / %(limit)s, %(now)s,
                %(usage)s * 1.2, %(usage)s, %(usage)s * 1.5, %(breach)s, %(upper)s, 10, %(now)s)
            ON CONFLICT (service, "metricType", "periodStart") DO UPDATE SET
                state = EXCLUDED.state, "stateSince" = EXCLUDED."stateSince",
                usage = EXCLUDED.usage, utilisation = EXCLUDED.utilisation,
                "breachAt" = EXCLUDED."breachAt", "breachAtUpper" = EXCLUDED."breachAtUpper"
            """,
            {
                "service": service,
                "metric": metric,
                "start": period.start,
                "end": period.end,
                "plan": plan,
                "limit": limit,
                "state": state,
                "since": since,
                "usage": usage,
                "now": now,
                "breach": breach_at,
                "upper": breach_at_upper,
            },
        )


def put_source(
    dsn: str,
    source: str,
    last_success: datetime | None,
    *,
    error: str | None = None,
    error_at: datetime | None = None,
) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO "CollectionWatermark" (source, "collectedThrough", "lastAttemptAt",
                "lastSuccessAt", "lastError", "lastErrorAt")
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (source) DO UPDATE SET "lastSuccessAt" = EXCLUDED."lastSuccessAt",
                "lastError" = EXCLUDED."lastError", "lastErrorAt" = EXCLUDED."lastErrorAt",
                "lastAttemptAt" = EXCLUDED."lastAttemptAt"
            """,
            [source, last_success, error_at or last_success or NOW, last_success, error, error_at],
        )


# The accounts of limits.yaml, by the vendor prefix of their plans.
ACCOUNTS = {"vercel": "vercel-team", "neon": "neon", "upstash": "upstash"}


def put_recommendation(
    dsn: str,
    *,
    service: str = "VERCEL_BANDWIDTH",
    current: str = "vercel-hobby",
    target: str = "vercel-pro",
    priority: str = "HIGH",
    overage_avoided: float = 30.0,
    account: str | None = None,
) -> str:
    """A recommendation of ``account`` (default: the account limits.yaml puts ``service`` in)."""
    account = account or ACCOUNTS[current.split("-")[0]]
    evidence: dict[str, Any] = {"metrics": {}}
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """
            INSERT INTO "UpgradeRecommendation" (account, service, "currentPlan",
                "recommendedPlan", priority, title, reasoning, "overageAvoided", confidence,
                evidence, "projectedMonthlyCost", "upgradedMonthlyCost", "lastSeenAt")
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0.8, %s, 50, 20, %s)
            RETURNING id
            """,
            [
                account,
                service,
                current,
                target,
                priority,
                f"Upgrade {account} from {current} to {target}",
                "bandwidth will pass the hard limit before period end",
                overage_avoided,
                Jsonb(evidence),
                NOW,
            ],
        ).fetchone()
    assert row is not None
    return str(row[0])


def set_recommendation(dsn: str, rec_id: str, **columns: Any) -> None:
    names = {"priority": "priority", "status": "status", "overage_avoided": '"overageAvoided"'}
    sets = ", ".join(f"{names[k]} = %({k})s" for k in columns)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f'UPDATE "UpgradeRecommendation" SET {sets}, "updatedAt" = %(now)s WHERE id = %(id)s',
            {**columns, "id": rec_id, "now": NOW},
        )


def log_rows(dsn: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            'SELECT * FROM "NotificationLog" ORDER BY "plannedAt", "dedupKey"'
        ).fetchall()


def config_routing_to(receiver: str, **settings: float) -> str:
    """The test configuration with one route, everything to ``receiver``, and these
    settings added."""
    extra = "".join(f"  {key}: {value}\n" for key, value in settings.items())
    head = CONFIG.split("routes:")[0].replace("receivers:", extra + "receivers:", 1)
    return head + f"routes:\n  - receiver: {receiver}\n"


def run_notify(
    capsys: pytest.CaptureFixture[str], config: Path, now: datetime = NOW, *extra: str
) -> tuple[int, str, str]:
    """``python -m jobs notify`` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(["notify", "--config", str(config), "--now", now.isoformat(), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def receivers() -> Iterator[FakeReceivers]:
    with FakeReceivers() as fake:
        yield fake


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "notifications.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path
