"""`python -m jobs recommend` and the review queue, through the CLI, against real PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.cli import rows, run, write_daily

NOW = "2026-11-20T12:00"
SERVICE, METRIC = "VERCEL_BANDWIDTH", "BANDWIDTH_GB"


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, migrated_db: str) -> str:
    """4 GB a day of Fast Data Transfer since October: 100 GB (Hobby, hard) crossed Nov 25."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    write_daily(migrated_db, datetime(2026, 10, 1), [4.0] * 50)  # Oct 1 .. Nov 19
    return migrated_db


def limits_file(
    tmp_path: Path, *, revenue: float = 0, share: float = 0, plan: str = "vercel-hobby"
) -> Path:
    text = DEFAULT_LIMITS_FILE.read_text()
    replacements = {
        "  monthly_revenue_usd: 0": f"  monthly_revenue_usd: {revenue}",
        "  degraded_hours: 0": "  degraded_hours: 720",
        "VERCEL_BANDWIDTH: {account: vercel-team, revenue_share: 0}": (
            f"VERCEL_BANDWIDTH: {{account: vercel-team, revenue_share: {share}}}"
        ),
        "vercel-team: {plan: vercel-hobby}": f"vercel-team: {{plan: {plan}}}",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "limits.yaml"
    path.write_text(text)
    return path


def recommend(capsys: pytest.CaptureFixture[str], limits: Path, now: str = NOW, *extra: str) -> str:
    code, out, err = run(capsys, "recommend", "--limits", str(limits), "--now", now, *extra)
    assert code == 0, err
    return out


def recommendations(dsn: str) -> list[dict[str, Any]]:
    return rows(dsn, 'SELECT * FROM "UpgradeRecommendation" ORDER BY "createdAt"')


def test_ten_runs_over_the_same_data_keep_one_refreshed_recommendation(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    first = recommend(capsys, limits)
    assert "created: 1" in first
    seen = []
    for minutes in range(1, 10):
        out = recommend(capsys, limits, f"2026-11-20T12:{minutes:02d}")
        assert "created: 0" in out and "refreshed: 1" in out
        seen.append(recommendations(db)[0]["lastSeenAt"])
    (rec,) = recommendations(db)
    assert (rec["service"], rec["currentPlan"], rec["recommendedPlan"]) == (
        SERVICE,
        "vercel-hobby",
        "vercel-pro",
    )
    assert rec["status"] == "PENDING"
    assert seen == sorted(seen) and seen[-1] == datetime(2026, 11, 20, 12, 9)
    # No revenue in the default file: a hard limit will pause the team, at a cost unknown.
    assert (
        rec["title"] == "vercel-team: vercel-hobby will pause around 11-26; upgrade to vercel-pro"
    )
    assert rec["account"] == "vercel-team"
    assert rec["priority"] == "HIGH"  # the hard limit is 5.5 days away
    assert rec["projectedBreachAt"] == datetime(2026, 11, 26)
    assert rec["roi"] is None and rec["paybackDays"] is None  # unknown, never -100 %
    assert rec["currentUsage"] == {f"{SERVICE}/{METRIC}": 76.0}
    # 4 GB a day to the end of the Pacific month (2026-12-01 08:00 UTC).
    assert rec["projectedUsage"][f"{SERVICE}/{METRIC}"] == pytest.approx(120.0 + 4 * 8 / 24)


def test_the_assessment_holds_state_forecast_and_its_backtest(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path))
    (a,) = rows(
        db,
        """SELECT * FROM "UsageAssessment" WHERE service = %s AND "metricType" = %s""",
        SERVICE,
        METRIC,
    )
    assert a["plan"] == "vercel-hobby" and a["limitValue"] == 100 and a["unit"] == "GB"
    assert a["usage"] == 76.0 and a["utilisation"] == pytest.approx(0.76)
    # 0.76 once: WARNING is pending, not raised (it must hold for two collections).
    assert (a["state"], a["pendingState"]) == ("OK", "WARNING")
    assert a["forecastMean"] == pytest.approx(120.0 + 4 * 8 / 24)  # to Dec 1 08:00 UTC
    assert a["breachAt"] == datetime(2026, 11, 26)
    assert a["points"] == 50
    assert a["backtest"]["backtest"]["origins"] > 0
    assert {c["method"] for c in a["backtest"]["candidates"]} == {
        "recent-median",
        "run-rate",
        "trend",
        "seasonal-naive",
        "seasonal",
        "damped",
        "damped-fast",
        "holt-winters",
    }
    # The band's basis and its measured coverage are stored with it.
    band = a["backtest"]["bandReliability"]
    assert band["nominal"] == 0.8 and band["calibrated"] is True
    # 11 days and 8 hours to the end of the Pacific month: 12 days ahead. 50 days of
    # history calibrate the band, too few to check it walking forward (see the next test).
    assert band["calibration"] >= 20 and band["horizon"] == 12
    assert (band["checks"], band["text"]) == (0, "80% band, coverage not measured yet")
    # A limited metric without any data is NO_DATA, never OK.
    (kv,) = rows(
        db,
        """SELECT state FROM "UsageAssessment"
                        WHERE service = 'VERCEL_KV' AND "metricType" = 'STORAGE_MB'""",
    )
    assert kv["state"] == "NO_DATA"


def test_with_revenue_at_stake_the_upgrade_pays(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path, revenue=7200, share=0.5))
    (rec,) = recommendations(db)
    # $7200/month over the Pacific month (721 h: the clocks went back) at a 50 % share,
    # paused from Nov 26 to the period's end (Dec 1 08:00 UTC, 128 h).
    assert rec["revenueAtRisk"] == pytest.approx(7200 / 721 * 0.5 * 128, rel=0.01)
    assert rec["overageAvoided"] == 0  # Hobby bills no overage; the limit is hard
    assert rec["upgradedMonthlyCost"] == 20  # Pro's price, 120 GB is within its 1 TB
    assert rec["roi"] == pytest.approx((7200 / 721 * 0.5 * 128 - 20) / 20, rel=0.02)
    assert (
        rec["title"] == "vercel-team: vercel-hobby will pause around 11-26; upgrade to vercel-pro"
    )
    assert rec["paybackDays"] == pytest.approx(20 / (7200 / 721 * 0.5 * 128) * 721 / 24, rel=0.02)


def test_dismissed_advice_stays_quiet_until_its_priority_rises(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    recommend(capsys, limits)
    (rec,) = recommendations(db)
    code, out, _ = run(
        capsys,
        "recommendations",
        "dismiss",
        rec["id"],
        "--by",
        "alice",
        "--reason",
        "later",
        "--note",
        "after the launch",
    )
    assert code == 0 and "PENDING -> DISMISSED by alice" in out
    out = recommend(capsys, limits, "2026-11-20T13:00")
    assert "snoozed: 1" in out and "created: 0" in out
    assert [r["status"] for r in recommendations(db)] == ["DISMISSED"]

    # A 20 GB spike yesterday: 96 GB used, the hard limit is a day away: CRITICAL > HIGH.
    write_daily(db, datetime(2026, 11, 19), [24.0])
    out = recommend(capsys, limits, "2026-11-20T14:00")
    assert "created: 1" in out
    dismissed, raised = recommendations(db)
    assert (dismissed["status"], raised["status"], raised["priority"]) == (
        "DISMISSED",
        "PENDING",
        "CRITICAL",
    )


def test_after_the_snooze_the_same_advice_comes_back(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    recommend(capsys, limits)
    run(capsys, "recommendations", "dismiss", recommendations(db)[0]["id"], "--by", "alice")
    with psycopg.connect(db) as conn:  # the dismissal happened 15 days before this run
        conn.execute("""UPDATE "UpgradeRecommendation" SET "reviewHistory" =
                        jsonb_set("reviewHistory", '{0,at}', '"2026-11-05T12:00:00"')""")
    assert "created: 1" in recommend(capsys, limits, "2026-11-20T13:00")


def test_every_transition_legal_and_illegal_through_the_cli(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path))
    rid = recommendations(db)[0]["id"]

    def change(action: str, *extra: str) -> tuple[int, str, str]:
        return run(capsys, "recommendations", action, rid, "--by", "bob", *extra)

    code, _, err = change("implement", "--reason", "not-a-reason")
    assert code == 2 and "invalid choice: 'not-a-reason'" in err
    assert change("review", "--note", "looked at it")[0] == 0
    code, _, err = change("review")
    assert code == 1
    assert err == (
        f"error: recommendation {rid} is REVIEWED: it cannot become REVIEWED "
        "(allowed: APPROVED, DISMISSED, EXPIRED, IMPLEMENTED)\n"
    )
    assert change("approve")[0] == 0
    code, _, err = change("review")
    assert code == 1 and "is APPROVED: it cannot become REVIEWED" in err
    assert change("implement", "--reason", "done")[0] == 0
    for action in ("review", "approve", "dismiss", "implement"):
        code, _, err = change(action)
        assert code == 1 and "(allowed: none, it is final)" in err
    (rec,) = recommendations(db)
    assert rec["status"] == "IMPLEMENTED" and rec["reviewedBy"] == "bob"
    history = [(h["by"], h["from"], h["to"], h["note"], h["reason"]) for h in rec["reviewHistory"]]
    assert history == [
        ("bob", "PENDING", "REVIEWED", "looked at it", None),
        ("bob", "REVIEWED", "APPROVED", None, None),
        ("bob", "APPROVED", "IMPLEMENTED", None, "done"),
    ]
    assert all(h["at"] for h in rec["reviewHistory"])


def test_status_changes_need_a_known_id_and_a_name(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, _, err = run(capsys, "recommendations", "approve", "nope", "--by", "bob")
    assert (code, err) == (1, "error: no recommendation with id 'nope'\n")
    code, _, err = run(capsys, "recommendations", "approve", "nope")
    assert code == 2 and "the following arguments are required: --by" in err
    code, _, err = run(capsys, "recommendations", "approve", "nope", "--by", "  ")
    assert code == 2 and "argument --by: is empty" in err


def test_the_job_implements_advice_once_limits_yaml_follows_it(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path))
    out = recommend(capsys, limits_file(tmp_path, plan="vercel-pro"), "2026-11-20T13:00")
    assert "implemented: 1" in out
    (rec,) = recommendations(db)
    assert rec["status"] == "IMPLEMENTED"
    assert rec["reviewHistory"][-1]["by"] == "recommend-job"
    assert rec["reviewHistory"][-1]["reason"] == "plan-changed"


def test_advice_whose_condition_cleared_expires(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    recommend(capsys, limits)
    with psycopg.connect(db) as conn:  # the data turns out wrong and is withdrawn
        conn.execute('DELETE FROM "InfrastructureMetric"')
    assert "expired: 0" in recommend(capsys, limits, "2026-11-22T12:00")
    out = recommend(capsys, limits, "2026-11-23T12:00")  # three days without the condition
    assert "expired: 1" in out
    (rec,) = recommendations(db)
    assert rec["status"] == "EXPIRED"
    assert rec["reviewHistory"][-1]["reason"] == "condition-cleared"


def test_advice_past_its_expiry_date_expires(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    recommend(capsys, limits, NOW, "--ttl-days", "1")
    out = recommend(capsys, limits, "2026-11-21T13:00")
    assert "expired: 1" in out and "created: 1" in out  # still true: a fresh one replaces it
    old, new = recommendations(db)
    assert old["status"] == "EXPIRED" and old["reviewHistory"][-1]["reason"] == "expired"
    assert new["status"] == "PENDING"


def test_show_explains_the_numbers_and_their_data(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path, revenue=7200, share=0.5))
    rid = recommendations(db)[0]["id"]
    run(capsys, "recommendations", "review", rid, "--by", "carol", "--note", "checking")
    code, out, _ = run(capsys, "recommendations", "show", rid)
    assert code == 0
    for expected in (
        "vercel-team: vercel-hobby will pause around 11-26; upgrade to vercel-pro",
        f"id {rid} | REVIEWED | priority HIGH",
        "data 2026-10-01 .. 2026-11-19 (50 days); so far 76",
        "forecast recent-median: 121",
        "backtest of the period-end value over",
        "MAE vs the baseline",
        "80% band, coverage not measured yet",
        "current plan: limit 100, included 100",
        "vercel-hobby: $0.00 (upper edge $0.00) = base $0.00 + on-demand $0.00; pauses "
        "VERCEL_BANDWIDTH/BANDWIDTH_GB",
        "vercel-pro: $20.00",
        "hard (pauses)",
        "plans: vercel-hobby $0.00 -> vercel-pro $20.00",
        "revenue $7,200.00/month, share 50%",
        "ROI = (OA + RaR - C) / C",
        "carol: PENDING -> REVIEWED: checking",
    ):
        assert expected in out, expected
    evidence = recommendations(db)[0]["evidence"]
    (metric,) = evidence["meters"]
    assert (metric["service"], metric["metric"]) == (SERVICE, METRIC)
    assert metric["forecast"]["window"] == {"from": "2026-10-01", "to": "2026-11-19", "days": 50}
    assert metric["current"] == {
        "limit": 100.0,
        "included": 100.0,
        "overageRate": 0.0,
        "hard": True,
        "drawsCredit": False,
    }
    assert evidence["mean"]["upgradeCost"] == 20
    assert evidence["mean"]["targetBill"]["total"] == 20


def test_list_shows_open_recommendations_first_by_priority(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path))
    code, out, _ = run(capsys, "recommendations", "list", "--format", "json")
    assert code == 0
    (item,) = json.loads(out)
    assert (item["service"], item["status"], item["priority"]) == (SERVICE, "PENDING", "HIGH")
    code, out, _ = run(capsys, "recommendations", "list", "--status", "DISMISSED")
    assert out.strip() == "no recommendations"


def test_backtest_prints_each_series_errors(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "backtest", "--limits", str(limits_file(tmp_path)), "--now", NOW)
    assert code == 0
    assert "VERCEL_BANDWIDTH BANDWIDTH_GB: 50 days (2026-10-01 .. 2026-11-19), chosen" in out
    assert "*recent-median" in out or "*run-rate" in out
    # The band with its measured coverage, and every candidate's error against the baseline.
    assert "period end " in out and "80% band, coverage not measured yet" in out
    assert "vs base" in out and " run-rate " in out and " damped " in out
    assert "VERCEL_KV STORAGE_MB: no data" in out


def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    code, _, err = run(capsys, "recommend", "--limits", str(limits_file(tmp_path)), "--now", "soon")
    assert (code, err) == (
        2,
        "error: --now 'soon' is not an ISO 8601 time (e.g. 2026-11-25T10:00)\n",
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("limits: [")
    code, _, err = run(capsys, "recommend", "--limits", str(broken))
    assert code == 2 and len(err.splitlines()) == 1 and "broken.yaml" in err


def test_list_as_markdown_for_the_job_summary(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "recommendations", "list", "--format", "markdown")
    assert (code, out) == (0, "### Upgrade recommendations\n\nNo open recommendations.\n\n")
    recommend(capsys, limits_file(tmp_path))
    rid = recommendations(db)[0]["id"]
    code, out, _ = run(capsys, "recommendations", "list", "--format", "markdown")
    assert code == 0
    assert (
        "| HIGH | PENDING | vercel-team: vercel-hobby will pause around 11-26; upgrade to "
        "vercel-pro | $0.00 ($0.00) -> $20.00 ($20.00) | unknown — set "
        f"`business.monthly_revenue_usd` | n/a | 2026-11-26 | {rid} |"
    ) in out


def test_a_limit_already_reached_shows_when_it_was_reached(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    write_daily(migrated_db, datetime(2026, 11, 1), [8.0] * 19)  # 104 GB by the end of Nov 13
    recommend(capsys, limits_file(tmp_path, revenue=7200, share=0.5))
    (rec,) = recommendations(migrated_db)
    assert rec["projectedBreachAt"] == datetime(2026, 11, 14)
    assert "reached around 2026-11-14" in rec["reasoning"]
    assert rec["title"] == "vercel-team: vercel-hobby paused since 11-14; upgrade to vercel-pro"
    assert rec["priority"] == "CRITICAL"
    # The pause that still matters is the one from now on: Nov 20 12:00 to the end of the
    # Pacific month (Dec 1 08:00 UTC), 260 h at $7200 / 721 h x 50 %.
    assert rec["revenueAtRisk"] == pytest.approx(260 * 7200 / 721 * 0.5)
    (a,) = rows(
        migrated_db,
        """SELECT "breachAt", state FROM "UsageAssessment"
                                WHERE service = %s AND "metricType" = %s""",
        SERVICE,
        METRIC,
    )
    assert (a["breachAt"], a["state"]) == (datetime(2026, 11, 14), "CRITICAL")


def test_an_approved_recommendation_never_expires_by_itself(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    limits = limits_file(tmp_path)
    recommend(capsys, limits, NOW, "--ttl-days", "1")
    rid = recommendations(db)[0]["id"]
    assert run(capsys, "recommendations", "approve", rid[:8], "--by", "dana")[0] == 0
    with psycopg.connect(db) as conn:  # and then the data is withdrawn
        conn.execute('DELETE FROM "InfrastructureMetric"')
    out = recommend(capsys, limits, "2026-11-25T12:00")  # past its expiry, condition gone
    assert "expired: 0" in out
    assert f"note: approved recommendation {rid[:8]} (vercel-team -> vercel-pro)" in out
    assert "stays open until implemented or dismissed" in out
    (rec,) = recommendations(db)
    assert rec["status"] == "APPROVED"


def test_short_ids_work_and_ambiguous_ones_are_refused(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    recommend(capsys, limits_file(tmp_path))
    rid = recommendations(db)[0]["id"]
    code, out, _ = run(capsys, "recommendations", "show", rid[:8])
    assert code == 0 and f"id {rid} |" in out
    code, out, _ = run(capsys, "recommendations", "review", rid[:6], "--by", "erin")
    assert code == 0 and f"recommendation {rid}: PENDING -> REVIEWED" in out
    with psycopg.connect(db) as conn:  # two more rows whose ids share a prefix
        for suffix in ("1", "2"):
            conn.execute(
                """INSERT INTO "UpgradeRecommendation" (id, service, "currentPlan",
                   "recommendedPlan", title, reasoning, status)
                   VALUES (%s, 'VERCEL_KV', 'a', 'b', 't', 'r', 'DISMISSED')""",
                ["abcd000" + suffix],
            )
    code, _, err = run(capsys, "recommendations", "show", "abcd")
    assert code == 1
    assert err == (
        "error: id 'abcd' matches several recommendations (abcd0001, abcd0002): give more of it\n"
    )
    assert run(capsys, "recommendations", "show", "abcd0002")[0] == 0
    code, _, err = run(capsys, "recommendations", "show", "abc")
    assert (code, err) == (
        1,
        "error: no recommendation with id 'abc' (a short id needs at least 4 characters)\n",
    )


def test_per_service_recommendations_are_superseded_with_a_reason(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    with psycopg.connect(db) as conn:  # as an earlier version wrote them: one per service
        for service in ("VERCEL_BANDWIDTH", "VERCEL_FUNCTIONS"):
            conn.execute(
                """INSERT INTO "UpgradeRecommendation" (service, "currentPlan",
                   "recommendedPlan", title, reasoning, "lastSeenAt")
                   VALUES (%s, 'vercel-hobby', 'vercel-pro', 'old', 'old', %s)""",
                [service, datetime(2026, 11, 20)],
            )
    out = recommend(capsys, limits_file(tmp_path))
    assert "superseded: 2" in out and "created: 1" in out
    old = [r for r in recommendations(db) if r["account"] is None]
    assert [r["status"] for r in old] == ["EXPIRED", "EXPIRED"]  # history kept
    assert {r["reviewHistory"][-1]["reason"] for r in old} == {"superseded"}
    (new,) = [r for r in recommendations(db) if r["account"] == "vercel-team"]
    assert new["status"] == "PENDING"


def test_a_dismissed_per_service_recommendation_snoozes_its_accounts_advice(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    """Dismissed (as an earlier version wrote advice: per service) a day ago: the account's
    advice that supersedes it stays snoozed; another account's service does not count."""
    dismissed = {
        "at": "2026-11-19T12:00:00",
        "by": "alice",
        "from": "PENDING",
        "to": "DISMISSED",
        "note": None,
        "reason": "later",
    }
    with psycopg.connect(db) as conn:
        conn.execute(
            """INSERT INTO "UpgradeRecommendation" (service, "currentPlan", "recommendedPlan",
               title, reasoning, status, priority, "reviewHistory")
               VALUES ('VERCEL_KV', 'vercel-hobby', 'vercel-pro', 'old', 'old', 'DISMISSED',
                       'CRITICAL', %s)""",
            [Jsonb([dismissed])],
        )
    out = recommend(capsys, limits_file(tmp_path))
    assert "created: 1" in out  # VERCEL_KV is not one of vercel-team's services
    with psycopg.connect(db) as conn:
        conn.execute("""DELETE FROM "UpgradeRecommendation" WHERE account IS NOT NULL""")
        conn.execute("""UPDATE "UpgradeRecommendation" SET service = 'VERCEL_BANDWIDTH'""")
    out = recommend(capsys, limits_file(tmp_path))
    assert "snoozed: 1" in out and "created: 0" in out


def test_measured_coverage_is_stored_and_shown(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    """With a long enough history the band is checked walking forward: its measured
    coverage is stored with the assessment and shown by backtest and show."""
    write_daily(db, datetime(2026, 7, 1), [4.0] * 92)  # Jul 1 .. Sep 30, before the fixture's
    limits = limits_file(tmp_path)
    recommend(capsys, limits)
    (a,) = rows(
        db,
        """SELECT backtest FROM "UsageAssessment"
           WHERE service = 'VERCEL_BANDWIDTH' AND "metricType" = 'BANDWIDTH_GB'""",
    )
    band = a["backtest"]["bandReliability"]
    assert band["checks"] > 0 and band["coverage"] is not None
    shown = f"80% band, {band['coverage']:.0%} coverage over {band['checks']} backtests"
    assert band["text"] == shown
    code, out, _ = run(capsys, "backtest", "--limits", str(limits), "--now", NOW)
    assert code == 0 and shown in out
    (rec,) = recommendations(db)
    code, out, _ = run(capsys, "recommendations", "show", rec["id"])
    assert code == 0 and shown in out
