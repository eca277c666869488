"""One run of `python -m jobs recommend`: evaluate, forecast, advise, keep the review queue.

For every account (limits.yaml `accounts`) on its active plan:
1. every metric of every service is evaluated and forecast (``assess``) and stored as the
   series' ``UsageAssessment`` of the period;
2. for every plan the account can upgrade to, ``advise`` weighs the upgrade for all of its
   services together (one bill, one price difference, one pause); a recommendation per
   account and target plan is opened, refreshed, or left snoozed, and stale ones expire.
An open recommendation whose plan limits.yaml now names is IMPLEMENTED, once the vendor's
FOCUS purchase lines show it paid for when the vendor has any (``PaidPlan.confirms``);
until then it stays open with a note in its evidence ("waiting for the bill").
Per-service recommendations left by earlier versions are expired as superseded.

The whole run is one transaction under an advisory lock: two runs never interleave,
and a crash leaves the tables as they were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg

from jobs.db import wrap_errors
from jobs.recommend import store
from jobs.recommend.advice import Advice, advise
from jobs.recommend.assess import Assessment, Settings, assess, outlooks_for, start_of_day
from jobs.recommend.cases import AccountCase
from jobs.recommend.lifecycle import Status, snoozed, transition
from jobs.recommend.paid_plan import PaidPlan
from jobs.recommend.records import (
    AwaitingBill,
    Recommendation,
    RunSummary,
    build,
    forecast_evidence,
)
from jobs.usage import BillingPeriod

LOCK_KEY = "infra-monitoring:recommend"
JOB_NAME = "recommend-job"


def run(
    conn: psycopg.Connection,
    cases: Sequence[AccountCase],
    settings: Settings,
    now: datetime,
    mismatches: Mapping[str, str] | None = None,
    paid: Mapping[str, PaidPlan] | None = None,
) -> RunSummary:
    """``mismatches``: per account, what its FOCUS purchase lines say when that differs
    from limits.yaml (kept in the evidence and shown); ``paid``: per account, what its
    purchase lines say (an upgrade is IMPLEMENTED once they confirm it)."""
    period = BillingPeriod.containing(now)
    summary = RunSummary(period)
    mismatches = mismatches or {}
    paid = paid or {}
    summary.notes.extend(f"plan mismatch: {m}" for m in mismatches.values())
    with wrap_errors("recommend"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_KEY])
        # The year-long aggregations sort in memory instead of spilling to disk.
        conn.execute("SET LOCAL work_mem = '64MB'")
        daily = store.daily_series(
            conn, start_of_day(now) - settings.lookback, start_of_day(now), as_of=now
        )
        points = store.period_points(conn, period.start, period.end, as_of=now)
        active = {case.account: case.current.price.name for case in cases}
        _maintain(conn, active, paid, settings, now, summary)
        for case in cases:
            assessments = assess(case, daily, points, period, settings, now)
            summary.assessments.extend(assessments)
            for a in assessments:
                if a.terms.alerting:
                    store.upsert_assessment(conn, _assessment_row(a, period, now))
            services = sorted({service for service, _ in case.current.metrics})
            for target in case.targets:
                outlooks = outlooks_for(assessments, target)
                if not outlooks:
                    continue
                advice = advise(
                    case.account,
                    case.current.price,
                    target.price,
                    outlooks,
                    case.business,
                    (period.start, period.end),
                    now,
                )
                targets = {key: terms.terms for key, terms in target.metrics.items()}
                rec = build(
                    advice,
                    assessments,
                    targets,
                    case.business,
                    period,
                    settings,
                    now,
                    mismatches.get(case.account),
                )
                _keep(conn, advice, rec, services, settings, now, summary)
    return summary


def _maintain(
    conn: psycopg.Connection,
    active: dict[str, str],
    paid: Mapping[str, PaidPlan],
    settings: Settings,
    now: datetime,
    summary: RunSummary,
) -> None:
    """Implement what limits.yaml now has as the active plan (and the bill, where there is
    one, shows paid for); expire what went stale.

    An APPROVED recommendation is a decision people made: it never expires by itself (only
    when its plan becomes active, or someone dismisses it); the run reports it instead.
    A recommendation waiting for the bill does not expire either: its plan is in the file.
    """
    for rec in store.open_recommendations(conn):
        if rec.account is None:
            wanted, reason = Status.EXPIRED, "superseded"
            note = "advice is now one recommendation per account and target plan"
            summary.superseded.append(rec.id)
        elif active.get(rec.account) == rec.recommended_plan:
            file_says = f"limits.yaml now puts account {rec.account} on {rec.recommended_plan}"
            bill = paid.get(rec.account)
            confirmed = bill.confirms(rec.recommended_plan) if bill else None
            if bill is not None and confirmed is False:
                waiting = (
                    f"limits.yaml says {rec.recommended_plan}; waiting for the bill to show it "
                    f"({bill.shown()})"
                )
                store.await_bill(conn, rec.id, waiting)
                summary.notes.append(
                    AwaitingBill(
                        rec.id, rec.account, rec.recommended_plan, rec.status, waiting
                    ).message
                )
                continue
            wanted = Status.IMPLEMENTED
            if bill is not None and confirmed:
                reason, note = "bill-confirmed", f"{file_says}; {bill.shown()}"
            else:
                reason, note = "plan-changed", file_says
            summary.implemented.append(rec.id)
        else:
            stale = _stale(rec, settings, now)
            if stale is None:
                continue
            if rec.status is Status.APPROVED:
                summary.notes.append(
                    f"approved recommendation {rec.id[:8]} ({rec.account} -> "
                    f"{rec.recommended_plan}) {stale[1]}; it stays open until implemented "
                    "or dismissed"
                )
                continue
            wanted, (reason, note) = Status.EXPIRED, stale
            summary.expired.append(rec.id)
        entry = transition(rec.status, wanted, by=JOB_NAME, at=now, note=note, reason=reason)
        store.record_transition(conn, rec.id, entry)


def _stale(rec: store.OpenState, settings: Settings, now: datetime) -> tuple[str, str] | None:
    """(reason, note) when an open recommendation has gone stale, else None."""
    if rec.expires_at is not None and rec.expires_at <= now:
        return "expired", "passed its expiry date"
    if rec.last_seen_at is not None and now - rec.last_seen_at >= settings.expire_after:
        return (
            "condition-cleared",
            f"its condition has not held since {rec.last_seen_at:%Y-%m-%d %H:%M} UTC",
        )
    return None


def _keep(
    conn: psycopg.Connection,
    advice: Advice,
    rec: Recommendation,
    services: list[str],
    settings: Settings,
    now: datetime,
    summary: RunSummary,
) -> None:
    """Open, refresh or hold back one piece of advice (at most one open per account and
    target plan); a dismissal of it, or of the per-service advice it superseded (one of the
    account's ``services``), snoozes it."""
    if not advice.recommended:
        summary.declined.append(advice)
        return
    existing = store.open_recommendation(conn, advice.account, advice.target.name)
    if existing is not None:
        store.refresh_recommendation(conn, replace(rec, id=existing.id))
        summary.refreshed.append((existing.id, advice))
        return
    dismissal = store.last_dismissal(conn, advice.account, advice.target.name, services)
    if snoozed(dismissal, advice.priority, now, settings.snooze):
        summary.snoozed.append(advice)
        return
    new_id = store.insert_recommendation(conn, replace(rec, expires_at=now + settings.ttl))
    summary.created.append((new_id, advice))


def _assessment_row(a: Assessment, period: BillingPeriod, now: datetime) -> dict[str, Any]:
    f = a.forecast
    limit = a.terms.terms.limit
    return {
        "service": a.service,
        "metric_type": a.metric_type,
        "period_start": period.start,
        "period_end": period.end,
        "plan": a.plan,
        "limit": limit,
        "unit": a.terms.unit,
        "state": a.evaluation.state.value,
        "state_since": a.evaluation.since,
        "pending": a.evaluation.pending.value if a.evaluation.pending else None,
        "usage": a.evaluation.value,
        "utilisation": a.evaluation.utilisation,
        "data_through": a.evaluation.at,
        "method": f.method if f else None,
        "mean": f.mean if f else None,
        "lower": f.lower if f else None,
        "upper": f.upper if f else None,
        "breach_at": a.breach_at,
        "breach_at_upper": f.breach_at(limit, upper=True) if f and math.isfinite(limit) else None,
        "backtest": forecast_evidence(f) if f else {},
        "points": f.points if f else 0,
        "now": now,
    }
