"""What the report shows, read from the database and limits.yaml.

Every series a chart is drawn for: each metric the active plan of a service limits, and
each series with usage this period (costs are a table of their own, not charts). For
each: the period's points (usage so far, or the level), the active plan's limit and
thresholds, the forecast recomputed as ``recommend`` computes it (``jobs.recommend.forecast``), and
the state ``recommend`` stored in ``UsageAssessment``. Plus the open recommendations, the
spend so far, and the projects behind each account's cost and each limited meter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from jobs import assessments
from jobs.assessments import StoredAssessment
from jobs.collect import store as collect_store
from jobs.limits.model import LimitsFile
from jobs.model import AGGREGATION, METRIC_TYPES, SERVICES, canonical_unit
from jobs.recommend import money as money_read
from jobs.recommend import store as recommend_store
from jobs.recommend.assess import forecast_days
from jobs.recommend.cases import account_cases
from jobs.recommend.forecast import Forecast
from jobs.recommend.lifecycle import OPEN
from jobs.recommend.money import Money
from jobs.recommend.records import Recommendation
from jobs.report.projects import AccountCosts, MeterProjects, cost_per_project, top_projects
from jobs.usage import BillingPeriod, period_usage, project_usage

COST_METRIC = "COST_USD"
REQUIRED_TABLES = (
    "InfrastructureMetric",
    "UsageAssessment",
    "UpgradeRecommendation",
    "PlanPurchase",
)


@dataclass(frozen=True)
class LimitLines:
    value: float  # the active plan's limit, canonical unit
    warning: float  # fractions of the limit
    critical: float
    hard: bool


@dataclass(frozen=True)
class SeriesView:
    service: str
    metric_type: str
    unit: str
    plan: str | None  # the service's active plan, when limits.yaml names one
    limit: LimitLines | None  # None: the active plan sets no limit on this metric
    cumulative: bool  # usage adds up over the period (else a level)
    points: tuple[tuple[datetime, float], ...]  # this period: usage so far, or the level
    forecast: Forecast | None
    assessment: StoredAssessment | None

    @property
    def key(self) -> str:
        return f"{self.service}-{self.metric_type}"

    @property
    def has_data(self) -> bool:
        return bool(self.points)


@dataclass(frozen=True)
class ReportData:
    now: datetime
    period: BillingPeriod
    series: tuple[SeriesView, ...]
    recommendations: tuple[Recommendation, ...]
    costs: dict[str, float]  # service -> USD so far this period
    money: Money  # plan mismatches and budget outlooks
    project_costs: tuple[AccountCosts, ...]  # per account: the cost of each project
    meter_projects: tuple[MeterProjects, ...]  # per limited meter: its top projects


def _order(services: list[str]) -> Callable[[tuple[str, str]], tuple[int, int]]:
    """Services in the order limits.yaml lists them (then the rest), metrics as sql/ does."""
    rank: dict[str, int] = {}
    for service in [*services, *SERVICES]:
        rank.setdefault(service, len(rank))

    def key(series: tuple[str, str]) -> tuple[int, int]:
        return (rank[series[0]], METRIC_TYPES.index(series[1]))

    return key


def gather(
    conn: psycopg.Connection, limits: LimitsFile, now: datetime, lookback: timedelta
) -> ReportData:
    """Everything the report draws, as of ``now`` (naive UTC), in one read-only pass."""
    collect_store.check_schema(conn, REQUIRED_TABLES, functions=())
    period = BillingPeriod.containing(now)
    today = datetime.combine(now.date(), datetime.min.time())
    with conn.transaction():
        daily = recommend_store.daily_series(conn, today - lookback, today, as_of=now)
        points = recommend_store.period_points(conn, period.start, period.end, as_of=now)
        stored = {a.key: a for a in assessments.read_period(conn, period, as_of=now)}
        open_rows = recommend_store.list_recommendations(
            conn, sorted(s.value for s in OPEN), as_of=now
        )
        usage = period_usage(conn, period, as_of=now)
        by_project = project_usage(conn, period, as_of=now)
        money = money_read.read(conn, limits, now)

    limited: dict[tuple[str, str], tuple[str, LimitLines | None]] = {}
    for case in account_cases(limits):
        for (service, metric), terms in case.current.metrics.items():
            lines = (
                LimitLines(
                    terms.terms.limit,
                    terms.thresholds.warning,
                    terms.thresholds.critical,
                    terms.terms.hard,
                )
                if terms.alerting and math.isfinite(terms.terms.limit)
                else None
            )
            limited[(service, metric)] = (case.current.price.name, lines)
    plans = {s.service: s.plan for s in limits.services}
    keys = {k for k in limited if limited[k][1] is not None} | {
        k for k in points if k[1] != COST_METRIC
    }

    series = []
    order = _order(list(plans))
    for service, metric in sorted(keys, key=order):
        predicted = forecast_days(daily.get((service, metric), []), metric, period, today)
        series.append(
            SeriesView(
                service=service,
                metric_type=metric,
                unit=canonical_unit(metric),
                plan=plans.get(service),
                limit=limited.get((service, metric), (None, None))[1],
                cumulative=AGGREGATION[metric].over_time == "sum",
                points=tuple(points.get((service, metric), ())),
                forecast=predicted,
                assessment=stored.get((service, metric)),
            )
        )
    costs = {service: u.value for (service, metric), u in usage.items() if metric == COST_METRIC}
    return ReportData(
        now=now,
        period=period,
        series=tuple(series),
        recommendations=tuple(open_rows),
        money=money,
        costs=dict(sorted(costs.items(), key=lambda item: order((item[0], COST_METRIC)))),
        project_costs=cost_per_project(limits, by_project),
        meter_projects=top_projects(
            [(v.service, v.metric_type) for v in series if v.limit is not None], by_project
        ),
    )
