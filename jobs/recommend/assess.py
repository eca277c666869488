"""Evaluate and forecast every metric of an account's active plan, and turn the results into
the outlooks an upgrade is weighed on. Pure: the engine reads the data and passes it in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from jobs.model import AGGREGATION
from jobs.recommend.advice import MetricOutlook
from jobs.recommend.cases import AccountCase, MetricTerms, PlanTerms, SeriesKey
from jobs.recommend.evaluation import Evaluation, Rules, State, evaluate_series
from jobs.recommend.forecast import DailySeries, Forecast, forecast
from jobs.usage import BillingPeriod


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
    def series(self) -> str:
        return f"{self.service}/{self.metric_type}"

    @property
    def breach_at(self) -> datetime | None:
        """When usage reached the limit: in the data if it already has, else forecast."""
        if self.reached_at is not None:
            return self.reached_at
        limit = self.terms.terms.limit
        if self.forecast is None or not math.isfinite(limit):
            return None
        return self.forecast.breach_at(limit)


def start_of_day(moment: datetime) -> datetime:
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
    # Amounts: the days of this period so far; levels: the latest.
    so_far = sum(v for d, v in complete if period.holds_day(d)) if cumulative else complete[-1][1]
    return series, so_far, as_of


def forecast_days(
    days: Sequence[tuple[date, float]], metric_type: str, period: BillingPeriod, today: datetime
) -> Forecast | None:
    """The period-end forecast from a series' daily values (None without a complete day)."""
    fitted = series_input(days, metric_type, period, today)
    if fitted is None:
        return None
    series, so_far, as_of = fitted
    return forecast(
        series, so_far=so_far, as_of=as_of, period_start=period.start, period_end=period.end
    )


def assess(
    case: AccountCase,
    daily: dict[SeriesKey, list[tuple[date, float]]],
    points: dict[SeriesKey, list[tuple[datetime, float]]],
    period: BillingPeriod,
    settings: Settings,
    now: datetime,
) -> list[Assessment]:
    """Evaluate and forecast every limited metric of the account's active plan."""
    today = start_of_day(now)
    results = []
    for key, terms in sorted(case.current.metrics.items()):
        prediction = forecast_days(daily.get(key, []), terms.metric_type, period, today)
        series_points = points.get(key, [])
        if terms.alerting:
            evaluation = evaluate_series(
                series_points, terms.terms.limit, terms.thresholds, settings.rules, now
            )
        else:
            evaluation = Evaluation(State.OK, None, None, None, None, None, "no allowance")
        results.append(
            Assessment(
                terms.service,
                terms.metric_type,
                case.current.price.name,
                terms,
                evaluation,
                prediction,
                prediction.so_far if prediction else None,
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


def outlooks_for(assessments: Sequence[Assessment], target: PlanTerms) -> list[MetricOutlook]:
    """The metrics that drive an upgrade: every assessed metric with a forecast."""
    outlooks = []
    for a in assessments:
        if a.forecast is None or a.so_far is None:
            continue
        current = a.terms.terms
        target_terms = target.metrics.get((a.service, a.metric_type))
        target_limit = target_terms.terms if target_terms else None
        finite = math.isfinite(current.limit)
        target_finite = target_limit is not None and math.isfinite(target_limit.limit)
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
                    if target_limit and target_finite
                    else 0.0
                ),
                target_breach_at=(
                    a.forecast.breach_at(target_limit.limit)
                    if target_limit and target_finite
                    else None
                ),
                service=a.service,
                reached_at=a.reached_at if current.hard else None,
            )
        )
    return outlooks
