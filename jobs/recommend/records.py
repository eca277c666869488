"""The recommendation as a typed record, with one JSON contract. Pure.

``Recommendation`` is one row of ``UpgradeRecommendation``; ``Evidence`` is its ``evidence``
column: every meter of every service of the account with its own numbers, both plans'
bills at the forecast's mean and upper edge, the business inputs and the rules. The store
writes and reads these records, and the terminal text, the Markdown, the JSON listing and
the report all read them; nothing passes rows around as loose dicts.

``build`` makes a recommendation out of one piece of advice and the assessments behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobs.formats import iso_time
from jobs.recommend import advice as advice_rules
from jobs.recommend.advice import Advice, Priority, Scenario, Stake
from jobs.recommend.assess import Assessment, Settings
from jobs.recommend.bill import Bill, MeterTerms, PlanPrice
from jobs.recommend.forecast import Forecast
from jobs.recommend.lifecycle import HistoryEntry, Status
from jobs.usage import BillingPeriod

# The version of the evidence JSON this module writes; older evidence is shown as a summary.
CONTRACT = 2
ROI_UNKNOWN = "unknown — set `business.monthly_revenue_usd`"


def _iso(moment: datetime | None) -> str | None:
    return iso_time(moment) if moment else None


def _time(text: object) -> datetime | None:
    """Back from JSON: naive UTC, as in the tables (older evidence has no ``Z``)."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def forecast_evidence(f: Forecast) -> dict[str, Any]:
    return {
        "method": f.method,
        "window": {
            "from": f.first_day.isoformat() if f.first_day else None,
            "to": f.last_day.isoformat() if f.last_day else None,
            "days": f.points,
        },
        "asOf": _iso(f.as_of),
        "soFar": f.so_far,
        "mean": f.mean,
        "lower": f.lower,
        "upper": f.upper,
        "sigma": f.sigma,
        "band": "80%",
        "bandReliability": f.band.to_json(),
        "backtest": f.backtest.to_json() if f.backtest else None,
        "candidates": [b.to_json() for b in f.candidates],
    }


def _terms_json(t: MeterTerms | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "limit": _finite(t.limit),
        "included": t.included,
        "overageRate": t.overage_rate,
        "hard": t.hard,
        "drawsCredit": t.draws_credit,
    }


def _terms(data: dict[str, Any] | None) -> MeterTerms | None:
    if data is None:
        return None
    return MeterTerms(
        limit=math.inf if data["limit"] is None else float(data["limit"]),
        included=float(data["included"]),
        overage_rate=float(data["overageRate"]),
        hard=bool(data["hard"]),
        draws_credit=bool(data["drawsCredit"]),
    )


@dataclass(frozen=True)
class MeterEvidence:
    """One metric of one service of the account, with its own numbers."""

    service: str
    metric_type: str
    unit: str
    state: str
    state_since: datetime | None
    state_reason: str
    so_far: float | None
    reached_at: datetime | None  # at or over the current limit since (in the data)
    breach_at: datetime | None  # reached, or forecast to reach, the current limit
    current: MeterTerms
    target: MeterTerms | None
    thresholds: dict[str, float]
    forecast: dict[str, Any] | None  # ``forecast_evidence``

    @property
    def meter(self) -> str:
        return f"{self.service}/{self.metric_type}"

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "metric": self.metric_type,
            "unit": self.unit,
            "state": self.state,
            "stateSince": _iso(self.state_since),
            "stateReason": self.state_reason,
            "soFar": self.so_far,
            "reachedAt": _iso(self.reached_at),
            "breachAt": _iso(self.breach_at),
            "current": _terms_json(self.current),
            "target": _terms_json(self.target),
            "thresholds": self.thresholds,
            "forecast": self.forecast,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MeterEvidence:
        current = _terms(d["current"])
        assert current is not None
        return cls(
            service=d["service"],
            metric_type=d["metric"],
            unit=d["unit"],
            state=d["state"],
            state_since=_time(d["stateSince"]),
            state_reason=d["stateReason"],
            so_far=d["soFar"],
            reached_at=_time(d["reachedAt"]),
            breach_at=_time(d["breachAt"]),
            current=current,
            target=_terms(d["target"]),
            thresholds=d["thresholds"],
            forecast=d["forecast"],
        )


def _scenario(d: dict[str, Any]) -> Scenario:
    return Scenario(
        usage=d["usage"],
        current_overage=d["currentOverage"],
        target_overage=d["targetOverage"],
        overage_avoided=d["overageAvoided"],
        pause_probability=d["pauseProbability"],
        hours_degraded=d["hoursDegraded"],
        revenue_at_risk=d["revenueAtRisk"],
        projected_cost=d["projectedCost"],
        upgraded_cost=d["upgradedCost"],
        upgrade_cost=d["upgradeCost"],
        roi=d["roi"],
        payback_days=d["paybackDays"],
        current_bill=Bill.from_json(d["currentBill"]),
        target_bill=Bill.from_json(d["targetBill"]),
        revenue_unknown=d["revenueUnknown"],
    )


@dataclass(frozen=True)
class Evidence:
    generated_at: datetime
    period: BillingPeriod
    account: str
    current: PlanPrice
    target: PlanPrice
    meters: tuple[MeterEvidence, ...]
    mean: Scenario
    upper: Scenario
    business: Stake
    paused_since: datetime | None
    plan_mismatch: str | None  # what the FOCUS purchase lines say, when it differs
    rules: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": CONTRACT,
            "generatedAt": _iso(self.generated_at),
            "period": {"start": _iso(self.period.start), "end": _iso(self.period.end)},
            "account": self.account,
            "currentPlan": _price_json(self.current),
            "targetPlan": _price_json(self.target),
            "meters": [m.to_json() for m in self.meters],
            "mean": self.mean.to_json(),
            "upper": self.upper.to_json(),
            "business": {
                "monthlyRevenue": self.business.monthly_revenue,
                "revenueShare": self.business.revenue_share,
                "degradedHours": self.business.degraded_hours,
            },
            "pausedSince": _iso(self.paused_since),
            "planMismatch": self.plan_mismatch,
            "rules": self.rules,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Evidence | None:
        """The evidence, or None when it was written by an older version (no contract)."""
        if d.get("contract") != CONTRACT:
            return None
        period = d["period"]
        b = d["business"]
        return cls(
            generated_at=datetime.fromisoformat(d["generatedAt"]),
            period=BillingPeriod(
                datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
            ),
            account=d["account"],
            current=_price(d["currentPlan"]),
            target=_price(d["targetPlan"]),
            meters=tuple(MeterEvidence.from_json(m) for m in d["meters"]),
            mean=_scenario(d["mean"]),
            upper=_scenario(d["upper"]),
            business=Stake(b["monthlyRevenue"], b["revenueShare"], b["degradedHours"]),
            paused_since=_time(d["pausedSince"]),
            plan_mismatch=d["planMismatch"],
            rules=d["rules"],
        )


def _price_json(p: PlanPrice) -> dict[str, Any]:
    return {"name": p.name, "monthlyPrice": p.monthly_price, "usageCredit": p.usage_credit}


def _price(d: dict[str, Any]) -> PlanPrice:
    return PlanPrice(d["name"], d["monthlyPrice"], d["usageCredit"])


@dataclass(frozen=True)
class Recommendation:
    """One row of ``UpgradeRecommendation``."""

    account: str | None  # None: written before recommendations were per account
    service: str  # the service whose limit comes first (the table needs one)
    current_plan: str
    recommended_plan: str
    priority: Priority
    title: str
    reasoning: str
    current_usage: dict[str, float]  # SERVICE/METRIC -> usage so far
    projected_usage: dict[str, float]  # SERVICE/METRIC -> forecast at period end
    breach_at: datetime | None
    current_cost: float
    projected_cost: float
    upgraded_cost: float
    overage_avoided: float
    revenue_at_risk: float
    roi: float | None
    payback_days: float | None
    confidence: float
    evidence: Evidence | None
    id: str = ""
    status: Status = Status.PENDING
    review_history: tuple[HistoryEntry, ...] = ()
    expires_at: datetime | None = None
    last_seen_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw_evidence: dict[str, Any] = field(default_factory=dict)  # as stored
    # Kept in the evidence column beside the evidence: limits.yaml names the plan, the
    # vendor's purchase lines do not show it paid for yet.
    awaiting_bill: str | None = None

    @property
    def subject(self) -> str:
        return self.account or self.service

    @property
    def roi_text(self) -> str:
        """ROI as a person should read it: a percentage only when it is known."""
        if self.roi is not None:
            return f"{self.roi:.0%}"
        if self.evidence is not None and self.evidence.mean.revenue_unknown:
            return ROI_UNKNOWN
        return "n/a"

    def to_json(self) -> dict[str, Any]:
        """The JSON contract (``recommendations list --format json``)."""
        return {
            "id": self.id,
            "account": self.account,
            "service": self.service,
            "currentPlan": self.current_plan,
            "recommendedPlan": self.recommended_plan,
            "priority": self.priority.value,
            "status": self.status.value,
            "title": self.title,
            "reasoning": self.reasoning,
            "currentUsage": self.current_usage,
            "projectedUsage": self.projected_usage,
            "breachAt": _iso(self.breach_at),
            "currentCost": self.current_cost,
            "projectedCost": self.projected_cost,
            "upgradedCost": self.upgraded_cost,
            "overageAvoided": self.overage_avoided,
            "revenueAtRisk": self.revenue_at_risk,
            "roi": self.roi,
            "roiText": self.roi_text,
            "paybackDays": self.payback_days,
            "confidence": self.confidence,
            "evidence": self.evidence.to_json() if self.evidence else self.raw_evidence,
            "reviewHistory": [h.to_json() for h in self.review_history],
            "expiresAt": _iso(self.expires_at),
            "lastSeenAt": _iso(self.last_seen_at),
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "awaitingBill": self.awaiting_bill,
        }


@dataclass(frozen=True)
class AwaitingBill:
    """An open recommendation whose plan limits.yaml names, waiting for the bill to show it
    paid for (``note`` says what the purchase lines show)."""

    id: str
    account: str
    recommended_plan: str
    status: Status
    note: str

    @property
    def message(self) -> str:
        return (
            f"recommendation {self.id[:8]} ({self.account} -> {self.recommended_plan}) "
            f"{self.status.value}: {self.note}"
        )


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
    superseded: list[str] = field(default_factory=list)  # per-service ones, now per account
    notes: list[str] = field(default_factory=list)  # plan mismatches, budgets, bills awaited


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def title(a: Advice) -> str:
    """What the recommendation is about, in a few words: a pause when a hard limit drives it."""
    if a.paused_since is not None:
        return (
            f"{a.account}: {a.current.name} paused since {a.paused_since:%m-%d}; "
            f"upgrade to {a.target.name}"
        )
    if a.hard_breach_at is not None:
        return (
            f"{a.account}: {a.current.name} will pause around {a.hard_breach_at:%m-%d}; "
            f"upgrade to {a.target.name}"
        )
    return f"Upgrade {a.account} from {a.current.name} to {a.target.name}"


def reasoning(a: Advice, drivers: Sequence[Assessment]) -> str:
    parts = []
    for d in drivers:
        if d.forecast is None:
            continue
        limit = d.terms.terms.limit
        breach = d.breach_at
        kind = "hard limit" if d.terms.terms.hard else "allowance"
        against = f"against a {kind} of {limit:,.4g}" if math.isfinite(limit) else "no allowance"
        # A rule that fires on the band's upper edge says how often that edge held.
        upper_only = (
            breach is None
            and math.isfinite(limit)
            and d.forecast.breach_at(limit, upper=True) is not None
        )
        parts.append(
            f"{d.service} {d.metric_type} is at {d.so_far:,.4g} {d.terms.unit} and heads for "
            f"{d.forecast.mean:,.4g} ({d.forecast.band.text()}: {d.forecast.lower:,.4g} to "
            f"{d.forecast.upper:,.4g}) by {d.forecast.period_end:%Y-%m-%d}, {against}"
            + (f", reached around {breach:%Y-%m-%d}" if breach else "")
            + (", reached only at the band's upper edge" if upper_only else "")
            + "."
        )
    m = a.mean
    parts.append(
        f"On {a.current.name} the period's bill comes to {_money(m.current_bill.total)} "
        f"({_money(a.upper.current_bill.total)} at the band's upper edge); on {a.target.name} "
        f"to {_money(m.target_bill.total)} ({_money(a.upper.target_bill.total)})."
    )
    if m.pause_probability > 0:
        parts.append(
            f"A hard limit pauses the account's features with probability "
            f"{m.pause_probability:.0%} (one pause, from the earliest breach)."
        )
    if m.revenue_unknown:
        parts.append(
            f"The upgrade costs {_money(m.upgrade_cost)} more and avoids "
            f"{_money(m.overage_avoided)} of overage; what the pause costs is unknown, so ROI "
            f"is {ROI_UNKNOWN}."
        )
    else:
        roi = "n/a" if m.roi is None else f"{m.roi:.0%}"
        upper = "n/a" if a.upper.roi is None else f"{a.upper.roi:.0%}"
        parts.append(
            f"The upgrade costs {_money(m.upgrade_cost)} more per period; it avoids "
            f"{_money(m.overage_avoided)} of overage and {_money(m.revenue_at_risk)} of revenue "
            f"at risk, so ROI is {roi} at the forecast's mean and {upper} at its upper edge."
        )
    if a.risk_only:
        parts.append("A hard limit would pause the features: reported as a risk.")
    return " ".join(parts)


def confidence(drivers: Sequence[Assessment]) -> float:
    """How much the numbers can be trusted: the weakest driving forecast's measured band
    coverage (0.5 before it is measured), scaled down below four weeks of data."""
    scores = []
    for d in drivers:
        if d.forecast is None:
            continue
        measured = d.forecast.band.coverage
        coverage = 0.5 if measured is None else measured
        scores.append(min(1.0, d.forecast.points / 28) * coverage)
    return round(min(scores), 3) if scores else 0.0


def _meter(d: Assessment, target: MeterTerms | None) -> MeterEvidence:
    t = d.terms.thresholds
    return MeterEvidence(
        service=d.service,
        metric_type=d.metric_type,
        unit=d.terms.unit,
        state=d.evaluation.state.value,
        state_since=d.evaluation.since,
        state_reason=d.evaluation.reason,
        so_far=d.so_far,
        reached_at=d.reached_at,
        breach_at=d.breach_at,
        current=d.terms.terms,
        target=target,
        thresholds={"warning": t.warning, "critical": t.critical, "resolve": t.resolve},
        forecast=forecast_evidence(d.forecast) if d.forecast else None,
    )


def _lead_service(a: Advice, drivers: Sequence[Assessment]) -> str:
    """The service whose limit comes first (the table's service column needs one)."""
    timed = [d for d in drivers if d.breach_at is not None]
    if timed:
        return min(timed, key=lambda d: d.breach_at or datetime.max).service
    return drivers[0].service if drivers else a.account


def build(
    a: Advice,
    assessments: Sequence[Assessment],
    targets: dict[tuple[str, str], MeterTerms],
    business: Stake,
    period: BillingPeriod,
    settings: Settings,
    now: datetime,
    plan_mismatch: str | None = None,
) -> Recommendation:
    """The recommendation one piece of advice makes, with every meter as its evidence."""
    drivers = [d for d in assessments if d.forecast is not None]
    evidence = Evidence(
        generated_at=now,
        period=period,
        account=a.account,
        current=a.current,
        target=a.target,
        meters=tuple(_meter(d, targets.get((d.service, d.metric_type))) for d in drivers),
        mean=a.mean,
        upper=a.upper,
        business=business,
        paused_since=a.paused_since,
        plan_mismatch=plan_mismatch,
        rules={
            "criticalWithinDays": advice_rules.CRITICAL_WITHIN.days,
            "highWithinDays": advice_rules.HIGH_WITHIN.days,
            "highRoi": advice_rules.HIGH_ROI,
            "riskProbability": advice_rules.RISK_PROBABILITY,
            "forPoints": settings.rules.for_points,
            "staleAfterHours": settings.rules.stale_after.total_seconds() / 3600,
            "snoozeDays": settings.snooze.days,
            "expireAfterDays": settings.expire_after.days,
        },
    )
    hard_only = a.hard_breach_at is not None
    times = [d.breach_at for d in drivers if d.breach_at and (d.terms.terms.hard or not hard_only)]
    m = a.mean
    return Recommendation(
        account=a.account,
        service=_lead_service(a, drivers),
        current_plan=a.current.name,
        recommended_plan=a.target.name,
        priority=a.priority,
        title=title(a),
        reasoning=reasoning(a, drivers),
        current_usage={f"{d.service}/{d.metric_type}": d.so_far or 0.0 for d in drivers},
        projected_usage={
            f"{d.service}/{d.metric_type}": d.forecast.mean for d in drivers if d.forecast
        },
        breach_at=min(times) if times else None,
        current_cost=a.current_cost,
        projected_cost=m.projected_cost,
        upgraded_cost=m.upgraded_cost,
        overage_avoided=m.overage_avoided,
        revenue_at_risk=m.revenue_at_risk,
        roi=m.roi,
        payback_days=m.payback_days,
        confidence=confidence(drivers),
        evidence=evidence,
        last_seen_at=now,
    )
