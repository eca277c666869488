"""The demo's samples: regenerable, and the story they tell.

The Hobby team's six Vercel services give exactly one Vercel recommendation: the usage
credit and one pause counted once, a real ROI and payback. The usage is written as the
collection job stores it (canonical units per Pacific day), so this holds whatever the
meter table of jobs/collect maps the observed names to.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from jobs import settings
from jobs.collect import store as metrics_store
from jobs.collect.records import MetricRow
from jobs.errors import ConfigError
from tests.support.cli import rows, run

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-16T09:00"  # an hour after the last Pacific day of the samples ends


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", ROOT / "samples" / "make_samples.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_samples", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_committed_samples_are_what_the_generator_writes() -> None:
    assert generator().main(["--check"]) == 0


def test_the_samples_have_the_real_focus_shape() -> None:
    text = (ROOT / "samples" / "pro-team.focus.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(x) for x in text.splitlines()]
    purchase = next(x for x in lines if x["ChargeCategory"] == "Purchase")
    assert purchase["ServiceName"] == "Pro" and purchase["ConsumedQuantity"] is None
    assert purchase["ConsumedUnit"] is None
    names = {x["ServiceName"] for x in lines}
    assert {"Blob Storage Size", "Image Optimization Transformation"} <= names
    assert {x["ConsumedUnit"] for x in lines} >= {"gigabyte", "gigabyte-hour", "hour", "Requests"}
    usage = [x for x in lines if x["ChargeCategory"] == "Usage"]
    assert {x["ChargePeriodStart"][11:] for x in usage} == {"07:00:00.000Z", "08:00:00.000Z"}
    assert all(set(x["Tags"]) == {"ProjectId", "ProjectName"} for x in usage)
    assert any(x["BilledCost"] != x["EffectiveCost"] for x in usage)  # the credit at work


def write_team(dsn: str, team: str) -> None:
    """The team's usage as the collection job stores it."""
    make = generator()
    metric_rows = []
    for (name, day), quantity in make.daily_usage(team).items():
        meter = next(m for m in make.METERS if m.service_name == name)
        start, end = (t.replace(tzinfo=None) for t in make.pacific_day(day))
        metric_rows.append(
            MetricRow(
                meter.service,
                meter.metric,
                quantity * meter.to_canonical,
                start,
                end,
                "vercel-billing",
            )
        )
    totals: dict[tuple[str, str, datetime], MetricRow] = {}
    for r in metric_rows:  # meters of one metric add up (none do here, kept general)
        key = (r.service, r.metric_type, r.start)
        old = totals.get(key)
        totals[key] = (
            r
            if old is None
            else MetricRow(r.service, r.metric_type, old.value + r.value, r.start, r.end, r.source)
        )
    with psycopg.connect(dsn) as conn:
        conn.autocommit = True
        metrics_store.write(
            conn,
            "vercel-billing",
            list(totals.values()),
            through=None,
            run_id=str(uuid.uuid4()),
            at=datetime(2026, 11, 16),
        )


def test_the_hobby_teams_six_services_give_one_recommendation(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    write_team(migrated_db, "hobby-team")
    limits = str(ROOT / "samples" / "hobby-team.limits.yaml")
    code, out, err = run(capsys, "recommend", "--limits", limits, "--now", NOW)
    assert code == 0, err
    assert "created: 1" in out
    (rec,) = rows(migrated_db, 'SELECT * FROM "UpgradeRecommendation"')
    assert (rec["account"], rec["currentPlan"], rec["recommendedPlan"]) == (
        "vercel-team",
        "vercel-hobby",
        "vercel-pro",
    )
    evidence = rec["evidence"]
    services = {m["service"] for m in evidence["meters"]}
    assert services == {
        "VERCEL_BANDWIDTH",
        "VERCEL_EDGE_REQUESTS",
        "VERCEL_FUNCTIONS",
        "VERCEL_IMAGE_OPTIMIZATION",
        "VERCEL_BLOB",
        "VERCEL_EDGE_CONFIG",
    }
    # Mid-month no hard limit is reached yet; the forecast crosses some this period.
    assert all(m["reachedAt"] is None for m in evidence["meters"])
    assert rec["title"].startswith("vercel-team: vercel-hobby will pause around 11-")
    mean = evidence["mean"]
    # Pro: one $20 price; the meters without an allowance draw one shared $20 credit.
    target = mean["targetBill"]
    assert target["base"] == 20 and 0 < target["creditDrawn"] <= 20
    assert sum(1 for m in target["meters"] if m["drawsCredit"]) >= 5
    assert rec["upgradedMonthlyCost"] == pytest.approx(target["total"])
    # One pause, counted once: a probability, and revenue at risk within the revenue that
    # depends on the team ($6000 a month at the largest share, 0.8).
    assert 0 < mean["pauseProbability"] <= 1
    assert 0 < rec["revenueAtRisk"] <= 6000 * 0.8
    assert rec["roi"] is not None and rec["roi"] > 0
    assert rec["paybackDays"] is not None and rec["paybackDays"] < 30
    code, out, _ = run(capsys, "recommendations", "show", rec["id"][:8])
    assert "The bill on each plan" in out and "credit drawn" in out


def test_another_embedded_database_is_chosen_by_name() -> None:
    with pytest.raises(ConfigError, match="EMBEDDED_DATABASE 'Demo-1' must be lowercase"):
        settings.database({"EMBEDDED_DATABASE": "Demo-1"})


def test_the_pro_teams_budget_is_crossed_by_its_projected_bill(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
) -> None:
    """Past its 1 TB and 10M requests mid-month, the Pro team's bill on Pro at the usage
    forecast crosses its $150 budget before its spend series could see it coming."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    write_team(migrated_db, "pro-team")
    limits = str(ROOT / "samples" / "pro-team.limits.yaml")
    code, out, err = run(capsys, "recommend", "--limits", limits, "--now", NOW)
    assert code == 0, err
    assert "created: 0" in out  # Pro has no upgrade path in limits.yaml
    (line,) = [x for x in out.splitlines() if x.startswith("budget vercel-team $150.00")]
    forecast = float(line.split("forecast $")[1].split(" ")[0].replace(",", ""))
    # Mean usage to Dec 1: about 2.25 TB and 22.5M requests: (1250 GB x $0.15) + (12.5M x
    # $2/1M) + $20 = $232.50, plus what the credit meters bill beyond $20.
    assert 230 < forecast < 280
    assert line.endswith(": CRITICAL")
    # The same bill, itemised: the $20 price, the whole credit drawn, the rest on demand.
    (bill,) = [x for x in out.splitlines() if x.startswith("bill vercel-team: vercel-pro: $")]
    assert "= base $20.00 (credit drawn $20.00 of $20.00) + on-demand $" in bill
    assert f"vercel-pro: ${forecast:,.2f}" in bill
