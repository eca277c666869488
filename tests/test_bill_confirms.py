"""An upgrade is IMPLEMENTED once limits.yaml names its plan and, where the vendor has FOCUS
purchase lines, the bill shows the plan paid for (issue 16, point 5)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobs.collect import store as metrics_store
from jobs.collect.records import Purchase
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.recommend.paid_plan import mismatches, paid_plans
from tests.support.cli import rows, run
from tests.support.notify_data import NOW, put_recommendation

NOW_ARG = NOW.isoformat()
LIMITS = DEFAULT_LIMITS_FILE.read_text(encoding="utf-8")
HOBBY = "vercel-team: {plan: vercel-hobby}"
PRO = "vercel-team: {plan: vercel-pro}"
# A Hobby plan billed by a purchase line of its own (as Pro is by "Pro"): the bill can show
# the old plan still being paid for after limits.yaml moved on.
BILLED_HOBBY = LIMITS.replace(
    "    upgrades_to: [vercel-pro]\n    source: vercel-hobby\n",
    "    upgrades_to: [vercel-pro]\n    purchase: Hobby\n    source: vercel-hobby\n",
)


def purchase(name: str, start: datetime, provider: str = "Vercel") -> Purchase:
    return Purchase(provider, name, start, start + timedelta(days=30), 20.0, 20.0)


def test_the_bill_confirms_a_plan_only_where_it_can_show_one(tmp_path: Path) -> None:
    limits = load(DEFAULT_LIMITS_FILE)
    nov = datetime(2026, 11, 1)

    def team(purchases: list[Purchase]) -> Any:
        (found,) = [p for p in paid_plans(limits, purchases) if p.account == "vercel-team"]
        return found

    # No purchase line of the vendor: the bill cannot tell, the file decides.
    assert team([]).confirms("vercel-pro") is None
    assert team([purchase("Pro", nov, provider="Neon")]).confirms("vercel-pro") is None
    # Lines, but none names a plan yet (a seat, an add-on): not confirmed.
    addon = team([purchase("Speed Insights", nov)])
    assert addon.confirms("vercel-pro") is False
    assert addon.shown() == "no purchase line of Vercel names a plan in the last 45 days"
    pro = team([purchase("Speed Insights", nov), purchase("pro", nov)])
    assert (pro.plan, pro.confirms("vercel-pro")) == ("vercel-pro", True)
    assert pro.shown() == (
        "the newest purchase line is 'pro' (vercel-pro, 2026-11-01 .. 2026-12-01, $20.00)"
    )
    # A plan limits.yaml names no purchase line for cannot be shown by the bill.
    assert pro.confirms("vercel-hobby") is None
    # The newest line naming a plan counts.
    billed = load(write_limits(tmp_path, BILLED_HOBBY))
    lines = [purchase("Pro", nov - timedelta(days=30)), purchase("Hobby", nov)]
    (found,) = [p for p in paid_plans(billed, lines) if p.account == "vercel-team"]
    assert (found.plan, found.confirms("vercel-pro")) == ("vercel-hobby", False)
    (found,) = [p for p in paid_plans(billed, lines[:1]) if p.account == "vercel-team"]
    assert found.confirms("vercel-pro") is True
    # Neon and Upstash have no purchase lines: nothing to wait for.
    assert {p.account: p.lines for p in paid_plans(limits, lines)} == {
        "vercel-team": 2,
        "neon": 0,
        "upstash": 0,
    }


def test_a_plan_mismatch_says_whether_the_file_is_ahead_of_the_bill(tmp_path: Path) -> None:
    """An upgrade limits.yaml already names but the bill does not show yet is not a file to
    fix; a file behind the bill, or on an unrelated plan, is."""
    billed = load(write_limits(tmp_path, BILLED_HOBBY))
    nov = datetime(2026, 11, 1)
    ahead = load(write_limits(tmp_path, BILLED_HOBBY.replace(HOBBY, PRO)))
    (waiting,) = mismatches(ahead, paid_plans(ahead, [purchase("Hobby", nov)]))
    assert (waiting.file_plan, waiting.paid_plan, waiting.upgrade) == (
        "vercel-pro",
        "vercel-hobby",
        True,
    )
    assert "an upgrade the bill does not show yet" in waiting.message
    assert "put the account back on vercel-hobby" in waiting.message
    (behind,) = mismatches(billed, paid_plans(billed, [purchase("Pro", nov)]))
    assert (behind.file_plan, behind.paid_plan, behind.upgrade) == (
        "vercel-hobby",
        "vercel-pro",
        False,
    )
    assert behind.message.endswith(
        "fix `accounts` in limits.yaml, the recommendations assume the file's plan"
    )


@pytest.fixture
def approved(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """An approved recommendation to move vercel-team from Hobby to Pro."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    rec = put_recommendation(migrated_db)
    code, out, err = run(capsys, "recommendations", "approve", rec, "--by", "alice")
    assert code == 0, out + err
    return rec


def write_limits(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def add_purchases(dsn: str, *purchases: Purchase) -> None:
    with psycopg.connect(dsn) as conn:
        metrics_store.write(
            conn,
            "focus-file",
            [],
            through=None,
            run_id=str(uuid.uuid4()),
            at=NOW,
            purchases=purchases,
        )


def recommend(capsys: pytest.CaptureFixture[str], limits: Path) -> str:
    code, out, err = run(capsys, "recommend", "--limits", str(limits), "--now", NOW_ARG)
    assert code == 0, out + err
    return out


def state(dsn: str, rec: str) -> tuple[str, list[tuple[str, str, str | None]], Any]:
    (row,) = rows(
        dsn,
        'SELECT status::text AS status, "reviewHistory" AS history, evidence '
        'FROM "UpgradeRecommendation" WHERE id = %s',
        rec,
    )
    history = [(h["by"], h["to"], h["reason"]) for h in row["history"]]
    return row["status"], history, row["evidence"].get("awaitingBill")


def test_without_purchase_lines_the_file_implements_it(
    approved: str, migrated_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = recommend(capsys, write_limits(tmp_path, LIMITS.replace(HOBBY, PRO)))
    assert f"implemented: 1\n  {approved}" in out
    status, history, awaiting = state(migrated_db, approved)
    assert (status, awaiting) == ("IMPLEMENTED", None)
    assert history == [
        ("alice", "APPROVED", None),
        ("recommend-job", "IMPLEMENTED", "plan-changed"),
    ]


def test_purchase_lines_must_show_the_plan_before_it_is_implemented(
    approved: str, migrated_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    nov = datetime(2026, 11, 1, 8)
    add_purchases(migrated_db, purchase("Hobby", nov))
    before = write_limits(tmp_path, BILLED_HOBBY)
    recommend(capsys, before)
    assert state(migrated_db, approved)[0] == "APPROVED"  # the file still says Hobby

    pro = write_limits(tmp_path, BILLED_HOBBY.replace(HOBBY, PRO))
    waiting = (
        "limits.yaml says vercel-pro; waiting for the bill to show it (the newest purchase "
        "line is 'Hobby' (vercel-hobby, 2026-11-01 .. 2026-12-01, $20.00))"
    )
    message = f"recommendation {approved[:8]} (vercel-team -> vercel-pro) APPROVED: {waiting}"
    for _ in range(2):  # a re-run keeps waiting, and says so again
        out = recommend(capsys, pro)
        assert "implemented: 0" in out
        assert f"note: {message}" in out
        assert state(migrated_db, approved) == (
            "APPROVED",
            [("alice", "APPROVED", None)],
            waiting,
        )
    code, out, _ = run(capsys, "status", "--limits", str(pro), "--now", NOW_ARG)
    assert f"warn  plans: {message}" in out.splitlines()
    code, out, _ = run(capsys, "recommendations", "show", approved)
    assert code == 0 and f"Not implemented yet: {waiting}" in out
    code, out, _ = run(capsys, "recommendations", "list", "--format", "json")
    assert code == 0 and [r["awaitingBill"] for r in json.loads(out)] == [waiting]

    # The bill now shows Pro paid for: the next run implements it, saying how it knows.
    add_purchases(migrated_db, purchase("Pro", nov + timedelta(days=19)))
    out = recommend(capsys, pro)
    assert f"implemented: 1\n  {approved}" in out
    assert "waiting for the bill" not in out
    status, history, awaiting = state(migrated_db, approved)
    assert (status, awaiting) == ("IMPLEMENTED", None)
    assert history == [
        ("alice", "APPROVED", None),
        ("recommend-job", "IMPLEMENTED", "bill-confirmed"),
    ]
    (row,) = rows(
        migrated_db,
        'SELECT "reviewHistory" AS h FROM "UpgradeRecommendation" WHERE id = %s',
        approved,
    )
    assert row["h"][-1]["note"] == (
        "limits.yaml now puts account vercel-team on vercel-pro; the newest purchase line is "
        "'Pro' (vercel-pro, 2026-11-20 .. 2026-12-20, $20.00)"
    )
    code, out, _ = run(capsys, "status", "--limits", str(pro), "--now", NOW_ARG)
    assert "waiting for the bill" not in out


def test_a_pending_recommendation_waits_for_the_bill_too(
    migrated_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The file changed without a review: still not IMPLEMENTED while the bill shows Hobby,
    and it does not expire while it waits."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    rec = put_recommendation(migrated_db)
    add_purchases(migrated_db, purchase("Hobby", datetime(2026, 11, 1, 8)))
    pro = write_limits(tmp_path, BILLED_HOBBY.replace(HOBBY, PRO))
    later = NOW + timedelta(days=10)  # past the 3 days after which a stale one expires
    code, out, err = run(capsys, "recommend", "--limits", str(pro), "--now", later.isoformat())
    assert code == 0, err
    assert f"recommendation {rec[:8]} (vercel-team -> vercel-pro) PENDING: " in out
    assert state(migrated_db, rec)[:2] == ("PENDING", [])
