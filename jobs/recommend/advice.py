"""What an upgrade is worth: cost projection, overage avoided, revenue at risk, ROI,
payback and priority. Pure functions, no IO; every input and result is kept so the
recommendation can show its arithmetic.

For one account (every service on one vendor plan) moving from its current plan to a
target plan (REFERENCE section 7), every metric of every service weighed together:

- ΔC = target plan price - current plan price (per billing period), counted once;
- overage avoided OA = on-demand bill on the current plan - on the target (``bill``:
  each meter's overage, the shared usage credit drawn once), Û the usage forecast to
  period end; a hard limit bills no overage (the feature pauses instead);
- revenue at risk RaR = P(a hard limit is hit before the period resets) * hours degraded
  * revenue per hour * share of revenue that depends on the service; the risk left on
  the target plan is subtracted. One pause takes the service down once, so several hard
  limits combine as P(any is hit) and the earliest breach, never as a sum;
- the upgrade's cost C = ΔC + overage the target bills beyond the current plan's (a
  pay-as-you-go plan has no price, only usage); ROI = (OA + RaR - C) / C (none when C is
  0, and unknown when a pause is at stake but no revenue is set: never a made-up -100 %);
  payback = C / (OA + RaR) periods.

Everything is computed at the forecast's mean and at its band's upper edge.
Sanity rules hold by construction and are checked: OA never exceeds the overage it
saves, RaR never exceeds the revenue that depends on the service in the period.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.recommend.bill import Bill, MeterTerms, PlanPrice, bill


class Priority(enum.StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}

# Priority rules (docs/recommendations.md): time to a hard-limit breach first, then ROI.
CRITICAL_WITHIN = timedelta(days=3)
HIGH_WITHIN = timedelta(days=7)
HIGH_ROI = 1.0
# A hard limit whose breach is at least this likely is reported even when the upgrade
# does not pay.
RISK_PROBABILITY = 0.2


@dataclass(frozen=True)
class MetricOutlook:
    """One metric of one service: where it is, where it is heading, and both plans' terms."""

    metric_type: str
    so_far: float
    mean: float  # forecast at period end
    upper: float  # the band's upper edge
    exceed_probability: float  # P(usage at period end >= current limit)
    breach_at: datetime | None  # mean path reaches the current limit
    breach_at_upper: datetime | None
    current: MeterTerms
    target: MeterTerms | None  # None: the target plan sets no limit for this metric
    target_exceed_probability: float = 0.0
    target_breach_at: datetime | None = None
    service: str = ""
    reached_at: datetime | None = None  # usage is at or over the current limit since then

    @property
    def meter(self) -> str:
        return f"{self.service}/{self.metric_type}" if self.service else self.metric_type


@dataclass(frozen=True)
class Stake:
    """What a pause of the account puts at stake (limits.yaml's business inputs, per account)."""

    monthly_revenue: float
    revenue_share: float  # share of revenue that depends on the account's services, 0..1
    degraded_hours: float | None = None  # cap on hours a paused feature stays down

    def __post_init__(self) -> None:
        if self.monthly_revenue < 0 or not 0 <= self.revenue_share <= 1:
            raise ValueError("revenue must be >= 0 and its share within [0, 1]")


@dataclass(frozen=True)
class Scenario:
    """The numbers at one usage level (the forecast's mean or its upper edge)."""

    usage: dict[str, float]
    current_overage: float
    target_overage: float
    overage_avoided: float
    pause_probability: float
    hours_degraded: float
    revenue_at_risk: float  # current risk minus the risk left on the target plan
    projected_cost: float  # current plan price + overage
    upgraded_cost: float  # target plan price + overage
    upgrade_cost: float  # price difference + overage new on the target (the ROI's cost)
    roi: float | None  # None when the upgrade costs nothing more
    payback_days: float | None

    current_bill: Bill
    target_bill: Bill
    # A pause is at stake but no revenue is set: RaR, ROI and payback are unknown.
    revenue_unknown: bool = False

    @property
    def pays(self) -> bool:
        """The upgrade gains more than it costs."""
        return self.overage_avoided + self.revenue_at_risk > self.upgrade_cost

    def to_json(self) -> dict[str, Any]:
        return {
            "usage": self.usage,
            "currentOverage": self.current_overage,
            "targetOverage": self.target_overage,
            "overageAvoided": self.overage_avoided,
            "pauseProbability": self.pause_probability,
            "hoursDegraded": self.hours_degraded,
            "revenueAtRisk": self.revenue_at_risk,
            "projectedCost": self.projected_cost,
            "upgradedCost": self.upgraded_cost,
            "upgradeCost": self.upgrade_cost,
            "roi": self.roi,
            "paybackDays": self.payback_days,
            "revenueUnknown": self.revenue_unknown,
            "currentBill": self.current_bill.to_json(),
            "targetBill": self.target_bill.to_json(),
        }


@dataclass(frozen=True)
class Advice:
    account: str
    current: PlanPrice
    target: PlanPrice
    delta_cost: float
    current_cost: float  # current price + overage at usage so far
    mean: Scenario
    upper: Scenario
    breach_at: datetime | None  # earliest projected breach of a current limit (mean)
    hard_breach_at: datetime | None  # earliest hard limit reached (in the data) or forecast
    paused_since: datetime | None  # a hard limit is already reached since then
    pays: bool
    risk_only: bool  # does not pay (or cannot be valued), reported because of a hard limit
    recommended: bool
    priority: Priority

    def to_json(self) -> dict[str, object]:
        return {
            "currentPlan": {"name": self.current.name, "monthlyPrice": self.current.monthly_price},
            "targetPlan": {"name": self.target.name, "monthlyPrice": self.target.monthly_price},
            "deltaCost": self.delta_cost,
            "currentCost": self.current_cost,
            "mean": self.mean.to_json(),
            "upper": self.upper.to_json(),
            "breachAt": _iso(self.breach_at),
            "hardBreachAt": _iso(self.hard_breach_at),
            "pausedSince": _iso(self.paused_since),
            "pays": self.pays,
            "riskOnly": self.risk_only,
            "priority": str(self.priority),
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _pause(
    probabilities: Sequence[float], breaches: Sequence[datetime | None]
) -> tuple[float, datetime | None]:
    """P(any hard limit is hit) assuming independence, and the earliest breach."""
    none_hit = math.prod(1.0 - min(1.0, max(0.0, p)) for p in probabilities)
    known = [b for b in breaches if b is not None]
    return 1.0 - none_hit, min(known) if known else None


def _pause_risk(
    outlooks: Sequence[MetricOutlook],
    usage: dict[str, float],
    *,
    on_target: bool,
    upper: bool,
    end: datetime,
) -> tuple[float, datetime | None]:
    """P(a hard limit pauses the service this period) and when, on one plan.

    At the mean: the forecast's exceedance probabilities; the pause starts at the mean
    path's breach, or the upper edge's when only that one breaches. At the upper edge,
    taken as a scenario: a limit below it is hit (probability 1) when the upper path
    reaches it.
    """
    probabilities: list[float] = []
    breaches: list[datetime | None] = []
    for o in outlooks:
        terms = o.target if on_target else o.current
        if terms is None or not terms.hard:
            continue
        if not on_target and o.reached_at is not None:
            probabilities.append(1.0)  # already paused (or pausing): certain
            breaches.append(o.reached_at)
            continue
        at_mean = o.target_breach_at if on_target else (o.breach_at or o.breach_at_upper)
        if upper:
            hit = usage[o.meter] >= terms.limit
            at_upper = o.target_breach_at if on_target else o.breach_at_upper
            probabilities.append(1.0 if hit else 0.0)
            breaches.append((at_upper or end) if hit else None)
        else:
            probabilities.append(o.target_exceed_probability if on_target else o.exceed_probability)
            breaches.append(at_mean)
    return _pause(probabilities, breaches)


def _hours_degraded(breach: datetime | None, period_end: datetime, cap: float | None) -> float:
    if breach is None:
        return 0.0
    hours = max(0.0, (period_end - breach) / timedelta(hours=1))
    return min(hours, cap) if cap is not None else hours


def _scenario(
    outlooks: Sequence[MetricOutlook],
    current: PlanPrice,
    target: PlanPrice,
    business: Stake,
    period: tuple[datetime, datetime],
    upper: bool,
    as_of: datetime,
) -> Scenario:
    start, end = period
    period_hours = (end - start) / timedelta(hours=1)
    usage = {o.meter: (o.upper if upper else o.mean) for o in outlooks}
    current_bill = bill(current, [(o.meter, o.current, usage[o.meter]) for o in outlooks])
    target_bill = bill(
        target, [(o.meter, o.target, usage[o.meter]) for o in outlooks if o.target is not None]
    )
    current_overage, target_overage = current_bill.on_demand, target_bill.on_demand
    overage_avoided = max(0.0, current_overage - target_overage)

    revenue_per_hour = business.monthly_revenue / period_hours * business.revenue_share
    p_now, breach_now = _pause_risk(outlooks, usage, on_target=False, upper=upper, end=end)
    p_left, breach_left = _pause_risk(outlooks, usage, on_target=True, upper=upper, end=end)
    # Degraded hours count from now on: a pause already past costs nothing more.
    hours_now = _hours_degraded(
        max(breach_now, as_of) if breach_now else None, end, business.degraded_hours
    )
    rar_now = p_now * hours_now * revenue_per_hour
    rar_left = (
        p_left * _hours_degraded(breach_left, end, business.degraded_hours) * revenue_per_hour
    )
    revenue_at_risk = max(0.0, rar_now - rar_left)

    # What the upgrade costs: the price difference, plus overage the target bills that the
    # current plan does not (pay-as-you-go plans have no price, only usage).
    cost = target.monthly_price - current.monthly_price + max(0.0, target_overage - current_overage)
    gain = overage_avoided + revenue_at_risk
    revenue_unknown = p_now > 0 and business.monthly_revenue <= 0
    roi = (gain - cost) / cost if cost > 0 and not revenue_unknown else None
    payback = None if gain <= 0 or revenue_unknown else max(0.0, cost) / gain * period_hours / 24
    scenario = Scenario(
        usage=usage,
        current_overage=current_overage,
        target_overage=target_overage,
        overage_avoided=overage_avoided,
        pause_probability=p_now,
        hours_degraded=hours_now,
        revenue_at_risk=revenue_at_risk,
        projected_cost=current_bill.total,
        upgraded_cost=target_bill.total,
        upgrade_cost=cost,
        roi=roi,
        payback_days=payback,
        current_bill=current_bill,
        target_bill=target_bill,
        revenue_unknown=revenue_unknown,
    )
    check_sanity(scenario, business)
    return scenario


def check_sanity(scenario: Scenario, business: Stake) -> None:
    """Savings never exceed what they save; risk never exceeds the revenue at stake."""
    if scenario.overage_avoided > scenario.current_overage + 1e-9:
        raise AssertionError("overage avoided exceeds the overage it avoids")
    if scenario.revenue_at_risk > business.monthly_revenue * business.revenue_share + 1e-9:
        raise AssertionError("revenue at risk exceeds the revenue that depends on the account")


def priority(
    hard_breach_at: datetime | None,
    breach_at: datetime | None,
    roi: float | None,
    as_of: datetime,
    period_end: datetime,
) -> Priority:
    """The rules of docs/recommendations.md, in order."""
    if hard_breach_at is not None and hard_breach_at - as_of <= CRITICAL_WITHIN:
        return Priority.CRITICAL
    if hard_breach_at is not None and hard_breach_at - as_of <= HIGH_WITHIN:
        return Priority.HIGH
    if roi is not None and roi >= HIGH_ROI:
        return Priority.HIGH
    if (breach_at is not None and breach_at < period_end) or (roi is not None and roi > 0):
        return Priority.MEDIUM
    return Priority.LOW


def advise(
    account: str,
    current: PlanPrice,
    target: PlanPrice,
    outlooks: Sequence[MetricOutlook],
    business: Stake,
    period: tuple[datetime, datetime],
    as_of: datetime,
) -> Advice:
    """One decision for the whole account: every meter of every service in one bill, one
    price difference, one pause."""
    mean = _scenario(outlooks, current, target, business, period, upper=False, as_of=as_of)
    upper = _scenario(outlooks, current, target, business, period, upper=True, as_of=as_of)
    breaches = [o.breach_at for o in outlooks if o.breach_at is not None]
    hard = [o for o in outlooks if o.current.hard]
    reached = [o.reached_at for o in hard if o.reached_at is not None]
    hard_breaches = [o.breach_at for o in hard if o.breach_at is not None] + reached
    pays = mean.pays
    hard_risk = bool(hard) and (
        bool(hard_breaches)
        or mean.pause_probability >= RISK_PROBABILITY
        or upper.pause_probability > 0
    )
    risk_only = not pays and hard_risk
    breach_at = min(breaches) if breaches else None
    hard_breach_at = min(hard_breaches) if hard_breaches else None
    so_far = bill(current, [(o.meter, o.current, o.so_far) for o in outlooks])
    return Advice(
        account=account,
        current=current,
        target=target,
        delta_cost=target.monthly_price - current.monthly_price,
        current_cost=so_far.total,
        mean=mean,
        upper=upper,
        breach_at=breach_at,
        hard_breach_at=hard_breach_at,
        paused_since=min(reached) if reached else None,
        pays=pays,
        risk_only=risk_only,
        recommended=pays or risk_only,
        priority=priority(hard_breach_at, breach_at, mean.roi, as_of, period[1]),
    )
