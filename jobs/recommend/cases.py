"""What the recommendation engine needs to know about each account, from limits.yaml. Pure.

An account's case: its services, its active plan with the terms of every metric of every
service, the plans it can upgrade to with theirs, and the business inputs. A plan belongs
to the whole account, so one case (and one decision per target plan) covers all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jobs.limits.model import Limit, LimitKind, LimitsFile
from jobs.recommend.advice import Stake
from jobs.recommend.bill import MeterTerms, PlanPrice
from jobs.recommend.evaluation import Thresholds

SeriesKey = tuple[str, str]  # (service, metric type)


@dataclass(frozen=True)
class MetricTerms:
    service: str
    metric_type: str
    unit: str
    terms: MeterTerms
    thresholds: Thresholds
    alerting: bool  # False: billed from the first unit, no allowance to alert on


@dataclass(frozen=True)
class PlanTerms:
    """One plan as it applies to one account: its price and every meter's terms."""

    price: PlanPrice
    metrics: dict[SeriesKey, MetricTerms]


@dataclass(frozen=True)
class AccountCase:
    account: str
    vendor: str
    services: tuple[str, ...]
    current: PlanTerms
    targets: tuple[PlanTerms, ...]
    business: Stake


def _terms(limit: Limit) -> MetricTerms:
    return MetricTerms(
        service=limit.service,
        metric_type=limit.metric_type,
        unit=limit.unit,
        terms=MeterTerms(
            limit=limit.limit_value if limit.limit_value is not None else math.inf,
            included=limit.included_amount,
            overage_rate=limit.overage_unit_price,
            hard=limit.is_hard,
            draws_credit=limit.kind is LimitKind.CREDIT,
        ),
        thresholds=limit.thresholds,
        alerting=limit.limit_value is not None,
    )


def _plan_terms(limits: LimitsFile, services: tuple[str, ...], plan_name: str) -> PlanTerms:
    plan = limits.plan(plan_name)
    return PlanTerms(
        price=PlanPrice(plan.name, plan.monthly_price_usd, plan.usage_credit_usd),
        metrics={
            (limit.service, limit.metric_type): _terms(limit)
            for limit in limits.limits
            if limit.service in services and limit.plan == plan_name
        },
    )


def _business(limits: LimitsFile, account: str) -> Stake:
    """One pause of the account counts once: the share of the most dependent service, with
    its hours degraded."""
    settings = max(limits.account_services(account), key=lambda s: s.revenue_share)
    return Stake(
        monthly_revenue=limits.business.monthly_revenue_usd,
        revenue_share=settings.revenue_share,
        degraded_hours=settings.degraded_hours,
    )


def account_cases(limits: LimitsFile) -> list[AccountCase]:
    """One case per account with at least one service."""
    cases = []
    for account in limits.accounts:
        services = tuple(s.service for s in limits.account_services(account.name))
        if not services:
            continue
        plan = limits.plan(account.plan)
        cases.append(
            AccountCase(
                account=account.name,
                vendor=account.vendor,
                services=services,
                current=_plan_terms(limits, services, account.plan),
                targets=tuple(_plan_terms(limits, services, t) for t in plan.upgrades_to),
                business=_business(limits, account.name),
            )
        )
    return cases
