"""One run of `python -m jobs recommend`: evaluate, forecast, advise, keep the review queue.

For every service on its active plan and every metric that plan limits:
1. replay this period's points through the threshold safeguards (``evaluate_series``);
2. forecast usage to period end with the method its own backtest prefers;
3. store both as the series' ``UsageAssessment`` of the period.
Then for every plan the service can upgrade to, ``advise`` weighs the upgrade; a
recommendation is opened, refreshed, or left snoozed, and stale ones expire.

The whole run is one transaction under an advisory lock: two runs never interleave,
and a crash leaves the tables as they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from jobs.db import wrap_errors
from jobs.model import AGGREGATION
from jobs.recommend import explain, store
from jobs.recommend.advice import Advice, MetricOutlook, advise
from jobs.recommend.cases import MetricTerms, PlanCase, ServiceCase
from jobs.recommend.evaluation import Evaluation, Rules, State, evaluate_series
from jobs.recommend.forecast import DailySeries, Forecast, forecast
from jobs.recommend.lifecycle import Status, snoozed, transition
from jobs.usage import BillingPeriod

LOCK_KEY = "infra-monitoring:recommend"
JOB_NAME = "recommend-job"


@dataclass(frozen=True)
class Settings:
    rules: Rules = field(default_factory=Rules)
    lookback: timedelta = timedelta(days=90)  # history a forecast may use
    snooze: timedelta = timedelta(days=14)  # a dismissed advice stays quiet this long
    expire_after: timedelta = timedelta(days=3)  # open advice whose condition is gone
    ttl: timedelta = timedelta(days=30)  # expiry date of a new recommendation


@dataclass(frozen=True)
class Assessment:
    service: str
    metric_type: str
    plan: str
    terms: MetricTerms
    evaluation: Evaluation
    forecast: Forecast | None
    so_far: float | None
    reached_at: datetime | None = None  # since when usage has been at or over the limit

    @property
    def breach_at(self) -> datetime | None:
        """When usage reached the limit: in the data if it already has, else forecast."""
        if self.reached_at is not None:
            return self.reached_at
        limit = self.terms.terms.limit
        if self.forecast is None or not math.isfinite(limit):
            return None
        return self.forecast.breach_at(limit)


@dataclass
class RunSummary:
    period: BillingPeriod
    assessments: list[Assessment] = field(default_factory=list)
    created: list[tuple[str, Advice]] = field(default_factory=list)
    refreshed: list[tuple[str, Advice]] = field(default_factory=list)
    snoozed: list[Advice] = field(default_factory=list)
    declined: list[Advice] = field(default_factory=list)  # does not pay, no hard-limit risk
    expired: list[str] = field(default_factory=list)
    implemented: list[str] = field(default_factory=list)


def _start_of_day(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), datetime.min.time())


def series_input(
    days: Sequence[tuple[date, float]], metric_type: str, period: BillingPeriod, today: datetime
) -> tuple[DailySeries, float, datetime] | None:
    """The complete days before today, the usage so far and the time it stands at."""
    complete = [(d, v) for d, v in days if datetime.combine(d, datetime.min.time()) < today]
    if not complete:
        return None
    cumulative = AGGREGATION[metric_type].over_time == "sum"
    series = DailySeries(tuple(d for d, _ in complete), tuple(v for _, v in complete), cumulative)
    as_of = datetime.combine(complete[-1][0] + timedelta(days=1), datetime.min.time())
    if cumulative:
        so_far = sum(
            v
            for d, v in complete
            if period.holds(
                datetime.combine(d, datetime.min.time()),
                datetime.combine(d + timedelta(days=1), datetime.min.time()),
            )
        )
    else:
        so_far = complete[-1][1]
    return series, so_far, as_of


def assess(
    case: ServiceCase,
    daily: dict[store.SeriesKey, list[tuple[date, float]]],
    points: dict[store.SeriesKey, list[tuple[datetime, float]]],
    period: BillingPeriod,
    settings: Settings,
    now: datetime,
) -> list[Assessment]:
    """Evaluate and forecast every limited metric of the service's active plan. Pure."""
    today = _start_of_day(now)
    results = []
    for metric_type, terms in sorted(case.current.metrics.items()):
        key = (case.service, metric_type)
        fitted = series_input(daily.get(key, []), metric_type, period, today)
        prediction = (
            forecast(fitted[0], so_far=fitted[1], as_of=fitted[2], period_end=period.end)
            if fitted
            else None
        )
        series_points = points.get(key, [])
        if terms.alerting:
            evaluation = evaluate_series(
                series_points, terms.terms.limit, terms.thresholds, settings.rules, now
            )
        else:
            evaluation = Evaluation(State.OK, None, None, None, None, None, "no allowance")
        results.append(
            Assessment(
                case.service,
                metric_type,
                case.current.plan.name,
                terms,
                evaluation,
                prediction,
                fitted[1] if fitted else None,
                reached_since(series_points, terms.terms.limit),
            )
        )
    return results


def reached_since(points: Sequence[tuple[datetime, float]], limit: float) -> datetime | None:
    """The start of the newest unbroken run of points at or over ``limit`` (None if the
    newest point is under it)."""
    since = None
    for at, value in sorted(points, reverse=True):
        if value < limit:
            break
        since = at
    return since


def outlooks_for(assessments: Sequence[Assessment], target: PlanCase) -> list[MetricOutlook]:
    """The metrics that drive an upgrade: every assessed metric with a forecast."""
    outlooks = []
    for a in assessments:
        if a.forecast is None or a.so_far is None:
            continue
        current = a.terms.terms
        target_terms = target.metrics.get(a.metric_type)
        target_limit = target_terms.terms if target_terms else None
        finite = math.isfinite(current.limit)
        outlooks.append(
            MetricOutlook(
                metric_type=a.metric_type,
                so_far=a.so_far,
                mean=a.forecast.mean,
                upper=a.forecast.upper,
                exceed_probability=a.forecast.exceedance_probability(current.limit)
                if finite
                else 0.0,
                breach_at=a.forecast.breach_at(current.limit) if finite else None,
                breach_at_upper=a.forecast.breach_at(current.limit, upper=True) if finite else None,
                current=current,
                target=target_limit,
                target_exceed_probability=(
                    a.forecast.exceedance_probability(target_limit.limit)
                    if target_limit and math.isfinite(target_limit.limit)
                    else 0.0
                ),
                target_breach_at=(
                    a.forecast.breach_at(target_limit.limit)
                    if target_limit and math.isfinite(target_limit.limit)
                    else None
                ),
            )
        )
    return outlooks


def run(
    conn: psycopg.Connection,
    cases: Sequence[ServiceCase],
    settings: Settings,
    now: datetime,
) -> RunSummary:
    period = BillingPeriod.containing(now)
    summary = RunSummary(period)
    with wrap_errors("recommend"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_KEY])
        # The year-long aggregations sort in memory instead of spilling to disk.
        conn.execute("SET LOCAL work_mem = '64MB'")
        daily = store.daily_series(conn, _start_of_day(now) - settings.lookback, _start_of_day(now))
        points = store.period_points(conn, period.start, period.end)
        active = {case.service: case.current.plan.name for case in cases}
        _maintain(conn, active, settings, now, summary)
        for case in cases:
            assessments = assess(case, daily, points, period, settings, now)
            summary.assessments.extend(assessments)
            for a in assessments:
                if a.terms.alerting:
                    store.upsert_assessment(conn, _assessment_row(a, period, now))
            for target in case.targets:
                outlooks = outlooks_for(assessments, target)
                if not outlooks:
                    continue
                advice = advise(
                    case.service,
                    case.current.plan,
                    target.plan,
                    outlooks,
                    case.business,
                    (period.start, period.end),
                    now,
                )
                values = explain.recommendation_values(
                    advice, assessments, case.business, period, settings, now
                )
                _keep(conn, advice, values, settings, now, summary)
    return summary


def _maintain(
    conn: psycopg.Connection,
    active: dict[str, str],
    settings: Settings,
    now: datetime,
    summary: RunSummary,
) -> None:
    """Implement what limits.yaml now has as the active plan; expire what went stale."""
    for rec in store.open_recommendations(conn):
        if active.get(rec.service) == rec.recommended_plan:
            wanted, reason = Status.IMPLEMENTED, "plan-changed"
            note = f"limits.yaml now puts {rec.service} on {rec.recommended_plan}"
        elif rec.expires_at is not None and rec.expires_at <= now:
            wanted, reason, note = Status.EXPIRED, "expired", "passed its expiry date"
        elif rec.last_seen_at is not None and now - rec.last_seen_at >= settings.expire_after:
            wanted, reason = Status.EXPIRED, "condition-cleared"
            note = f"its condition has not held since {rec.last_seen_at:%Y-%m-%d %H:%M} UTC"
        else:
            continue
        entry = transition(rec.status, wanted, by=JOB_NAME, at=now, note=note, reason=reason)
        store.record_transition(conn, rec.id, entry)
        (summary.implemented if wanted is Status.IMPLEMENTED else summary.expired).append(rec.id)


def _keep(
    conn: psycopg.Connection,
    advice: Advice,
    values: dict[str, Any],
    settings: Settings,
    now: datetime,
    summary: RunSummary,
) -> None:
    """Open, refresh or hold back one piece of advice (at most one open per service and plan)."""
    if not advice.recommended:
        summary.declined.append(advice)
        return
    existing = store.open_recommendation(conn, advice.service, advice.target.name)
    if existing is not None:
        store.refresh_recommendation(conn, values | {"id": existing.id})
        summary.refreshed.append((existing.id, advice))
        return
    dismissal = store.last_dismissal(conn, advice.service, advice.target.name)
    if snoozed(dismissal, advice.priority, now, settings.snooze):
        summary.snoozed.append(advice)
        return
    new_id = store.insert_recommendation(conn, values | {"expires_at": now + settings.ttl})
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
        "backtest": explain.forecast_evidence(f) if f else {},
        "points": f.points if f else 0,
        "now": now,
    }
