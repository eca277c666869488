"""The plan really paid for (FOCUS purchase lines) and USD budgets with a forecast."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.collect import store as metrics_store
from jobs.collect.records import MetricRow
from jobs.limits.model import Budget
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.recommend.budget import outlook
from jobs.recommend.evaluation import State
from jobs.usage import BillingPeriod
from tests.support.cli import rows, run, write_daily
from tests.support.fake_apis import charge

NOW = "2026-11-21T12:00"
NOV = BillingPeriod.containing(datetime(2026, 11, 15))  # Los Angeles November


def test_budget_forecast_crossing() -> None:
    """$2 a day for the 20 complete days of November: $40 spent, about $60 at period end."""
    daily = [(date(2026, 11, 1) + timedelta(days=n), 2.0) for n in range(20)]
    history = [(date(2026, 10, 1) + timedelta(days=n), 2.0) for n in range(31)]
    now = datetime(2026, 11, 21, 12)

    def check(amount: float, fixed: float = 0.0) -> State:
        budget = Budget("vercel-team", amount, None, 1)
        o = outlook(budget, history + daily, fixed, NOV, now)
        assert o.spent == pytest.approx(40 + fixed)
        assert o.mean == pytest.approx(60 + fixed, rel=0.02)
        assert o.lower <= o.mean <= o.upper
        return o.state

    assert check(100) is State.OK
    assert check(55) is State.CRITICAL  # not spent yet, but the forecast crosses it
    assert check(30) is State.CRITICAL  # spent already
    assert check(39.5, fixed=20) is State.CRITICAL  # the plan's price counts as spent
    # Noisy spend: only the band's upper edge crosses.
    rng = random.Random(7)
    noisy = [(d, 2.0 + rng.uniform(-1.5, 1.5)) for d, _ in history + daily]
    o = outlook(Budget("vercel-team", 1e9, None, 1), noisy, 0, NOV, now)
    assert o.upper > o.mean + 1
    between = (o.mean + o.upper) / 2
    assert outlook(Budget("vercel-team", between, None, 1), noisy, 0, NOV, now).state is (
        State.WARNING
    )


def focus_file(tmp_path: Path) -> Path:
    """A Pro team's export: usage lines and its "Pro" purchase (no quantity, no unit)."""
    lines = [
        charge(datetime(2026, 11, 1, 8) + timedelta(days=n), "Fast Data Transfer", 3.0, "GB", 0.0)
        for n in range(20)
    ]
    pro = charge(datetime(2026, 11, 1, 8), "Pro", 0, "", 20.0, category="Purchase")
    pro |= {
        "ConsumedQuantity": None,
        "ConsumedUnit": None,
        "ChargePeriodEnd": "2026-12-01T08:00:00.000Z",
        "EffectiveCost": 20.0,
    }
    path = tmp_path / "pro-team.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in [*lines, pro]))
    return path


def test_a_purchase_line_that_contradicts_limits_yaml_is_flagged(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    path = focus_file(tmp_path)
    for _ in range(2):  # a re-import keeps one purchase
        code, out, err = run(capsys, "collect", "--focus-file", str(path))
        assert code == 0, out + err
    (purchase,) = rows(migrated_db, 'SELECT * FROM "PlanPurchase"')
    assert (purchase["provider"], purchase["serviceName"], purchase["billedCost"]) == (
        "Vercel",
        "Pro",
        20.0,
    )
    expected = (
        "account vercel-team: the FOCUS purchase lines show 'Pro' (vercel-pro, "
        "2026-11-01 .. 2026-12-01, $20.00), but limits.yaml puts it on vercel-hobby"
    )
    code, out, err = run(capsys, "recommend", "--now", NOW)
    assert code == 0, err
    assert f"note: plan mismatch: {expected}" in out
    code, out, _ = run(capsys, "status", "--now", NOW)
    assert f"warn  plans: {expected}" in out
    report = tmp_path / "report.html"
    markdown = tmp_path / "summary.md"
    code, _, err = run(
        capsys, "report", "--out", str(report), "--markdown", str(markdown), "--now", NOW
    )
    assert code == 0, err
    assert f"Plan mismatch: {expected}" in markdown.read_text()
    assert "Plan mismatch: account vercel-team" in report.read_text()

    # With limits.yaml on Pro, nothing is flagged.
    pro_limits = tmp_path / "limits.yaml"
    pro_limits.write_text(
        DEFAULT_LIMITS_FILE.read_text().replace(
            "vercel-team: {plan: vercel-hobby}", "vercel-team: {plan: vercel-pro}"
        )
    )
    code, out, _ = run(capsys, "recommend", "--limits", str(pro_limits), "--now", NOW)
    assert code == 0 and "plan mismatch" not in out


def test_budgets_are_checked_by_recommend_and_status(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    write_daily(
        migrated_db,
        datetime(2026, 10, 1),
        [2.0] * 51,
        service="VERCEL_FUNCTIONS",
        metric="COST_USD",
    )  # $2 a day through Nov 20: $40 spent, $60 at period end
    limits = tmp_path / "limits.yaml"
    limits.write_text(
        DEFAULT_LIMITS_FILE.read_text().replace(
            "# budgets:\n#   - {account: vercel-team, monthly_usd: 50}",
            "budgets:\n  - {account: vercel-team, monthly_usd: 50}\n"
            "  - {account: neon, monthly_usd: 10}",
        )
    )
    code, out, err = run(capsys, "recommend", "--limits", str(limits), "--now", NOW)
    assert code == 0, err
    assert "budget vercel-team $50.00: spent $40.00 so far, forecast $60" in out
    assert out.count("CRITICAL") >= 1
    code, out, _ = run(capsys, "status", "--limits", str(limits), "--now", NOW)
    assert code == 1
    assert "FAIL  budgets: budget vercel-team $50.00: spent $40.00 so far" in out
    assert "ok    budgets: budget neon $10.00: spent $0.00 so far" in out


def test_a_project_budget_counts_the_projects_share_of_the_billed_cost(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    """$2 a day (EffectiveCost) of which $1 is billed, in rows per project: the shop's row
    (named by its ProjectName, kept by its ProjectId) $1.50 with $0.75 billed."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    first = datetime(2026, 10, 1)
    metric_rows = [
        MetricRow(
            "VERCEL_FUNCTIONS",
            "COST_USD",
            value,
            first + timedelta(days=n),
            first + timedelta(days=n + 1),
            "vercel-billing",
            {"billedCost": billed, "projectName": name},
            project,
        )
        for n in range(51)
        for project, name, value, billed in (
            ("prj_shop", "shop", 1.5, 0.75),
            ("prj_api", "api", 0.5, 0.25),
        )
    ]
    with psycopg.connect(migrated_db) as conn:
        conn.autocommit = True
        metrics_store.write(
            conn, "vercel-billing", metric_rows, through=None, run_id="t", at=datetime(2026, 11, 20)
        )
    limits = tmp_path / "limits.yaml"
    limits.write_text(
        DEFAULT_LIMITS_FILE.read_text().replace(
            "# budgets:\n#   - {account: vercel-team, monthly_usd: 50}",
            "budgets:\n  - {account: vercel-team, monthly_usd: 50}\n"
            "  - {account: vercel-team, project: shop, monthly_usd: 20}",
        )
    )
    code, out, err = run(capsys, "recommend", "--limits", str(limits), "--now", NOW)
    assert code == 0, err
    # 20 complete days of November: $20 billed to the team, $15 to the shop.
    assert "budget vercel-team $50.00: spent $20.00 so far, forecast $30" in out
    assert "budget vercel-team/shop $20.00: spent $15.00 so far, forecast $22" in out
    assert out.splitlines()[-1].endswith(": CRITICAL")
