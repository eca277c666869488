"""What the recommendation engine needs to know about each service, from limits.yaml.

A service's case: its active plan with the limit terms of every metric, the plans it can
upgrade to with theirs, the business inputs, and the thresholds of each limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jobs.limits.model import Limit, LimitKind, LimitsFile
from jobs.recommend.advice import Business, Plan, PlanLimit
from jobs.recommend.evaluation import Thresholds


@dataclass(frozen=True)
class MetricTerms:
    metric_type: str
    unit: str
    terms: PlanLimit
    thresholds: Thresholds
    alerting: bool  # False: billed from the first unit, no allowance to alert on


@dataclass(frozen=True)
class PlanCase:
    plan: Plan
    metrics: dict[str, MetricTerms]


@dataclass(frozen=True)
class ServiceCase:
    service: str
    current: PlanCase
    targets: tuple[PlanCase, ...]
    business: Business


def _terms(limit: Limit) -> MetricTerms:
    alerting = limit.limit_value is not None
    return MetricTerms(
        metric_type=limit.metric_type,
        unit=limit.unit,
        terms=PlanLimit(
            limit=limit.limit_value if limit.limit_value is not None else math.inf,
            included=limit.included_amount,
            overage_rate=limit.overage_unit_price,
            hard=limit.is_hard,
            draws_credit=limit.kind is LimitKind.CREDIT,
        ),
        thresholds=limit.thresholds,
        alerting=alerting,
    )


def _plan_case(limits: LimitsFile, service: str, plan_name: str) -> PlanCase:
    plan = limits.plan(plan_name)
    return PlanCase(
        plan=Plan(plan.name, plan.monthly_price_usd, plan.usage_credit_usd),
        metrics={
            limit.metric_type: _terms(limit)
            for limit in limits.limits
            if limit.service == service and limit.plan == plan_name
        },
    )


def service_cases(limits: LimitsFile) -> list[ServiceCase]:
    """One case per service whose active plan the file names."""
    cases = []
    for settings in limits.services:
        current = limits.plan(settings.plan)
        cases.append(
            ServiceCase(
                service=settings.service,
                current=_plan_case(limits, settings.service, settings.plan),
                targets=tuple(
                    _plan_case(limits, settings.service, target) for target in current.upgrades_to
                ),
                business=Business(
                    monthly_revenue=limits.business.monthly_revenue_usd,
                    revenue_share=settings.revenue_share,
                    degraded_hours=settings.degraded_hours,
                ),
            )
        )
    return cases
