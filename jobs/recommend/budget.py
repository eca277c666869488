"""USD budgets ahead of the money: spend so far and the forecast spend at period end. Pure.

A budget (limits.yaml `budgets`) is an amount per billing period for an account, or for
one project of it (FOCUS ``Tags.ProjectName``). Spend is what is billed: the daily billed
cost (``COST_USD`` rows' BilledCost) of the account's services (of the project, for a
project budget) plus, for an account, its purchase lines (a plan's price). The forecast
at period end is the daily spend forecast like usage, with its 80 % band; for an account it
is at least the projected bill on its plan (``bill``: the usage forecasts through the
allowances and the credit, which a spend series cannot see coming before an allowance
runs out). The alert looks ahead, not only at money already spent:

- CRITICAL: spend so far, or the forecast's mean at period end, reaches the budget;
- WARNING: the band's upper edge reaches it;
- OK otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jobs.limits.model import Budget
from jobs.recommend.assess import series_input, start_of_day
from jobs.recommend.evaluation import State
from jobs.recommend.forecast import forecast
from jobs.usage import BillingPeriod

COST_METRIC = "COST_USD"


@dataclass(frozen=True)
class BudgetOutlook:
    budget: Budget
    spent: float  # so far this period, purchases included
    mean: float  # forecast spend at period end
    lower: float
    upper: float  # the 80 % band's edges
    method: str | None  # the forecast method, None without daily costs
    state: State

    @property
    def message(self) -> str:
        b = self.budget
        return (
            f"budget {b.label} ${b.monthly_usd:,.2f}: spent ${self.spent:,.2f} so far, "
            f"forecast ${self.mean:,.2f} at period end (80% band ${self.lower:,.2f} .. "
            f"${self.upper:,.2f}): {self.state}"
        )


def state_of(budget: float, spent: float, mean: float, upper: float) -> State:
    """CRITICAL once the money spent or the forecast's mean reaches the budget; WARNING when
    only the band's upper edge does (one rule for recommend, status and notify)."""
    if spent >= budget or mean >= budget:
        return State.CRITICAL
    if upper >= budget:
        return State.WARNING
    return State.OK


def outlook(
    budget: Budget,
    daily: Sequence[tuple[date, float]],
    fixed: float,
    period: BillingPeriod,
    now: datetime,
    projected: tuple[float, float] = (0.0, 0.0),
) -> BudgetOutlook:
    """The budget's outlook from the daily spend it covers, ``fixed`` spend of the period
    (purchases) that no forecast should extrapolate, and the ``projected`` bill (mean,
    upper edge) that the forecast may not fall below."""
    fitted = series_input(daily, COST_METRIC, period, start_of_day(now))
    method = None
    spent = mean = lower = upper = fixed
    if fitted is not None:
        series, so_far, as_of = fitted
        f = forecast(
            series, so_far=so_far, as_of=as_of, period_start=period.start, period_end=period.end
        )
        method = f.method
        spent, mean, lower, upper = (fixed + v for v in (so_far, f.mean, f.lower, f.upper))
    mean, upper = max(mean, projected[0]), max(upper, projected[1], projected[0])
    lower = max(lower, spent)
    state = state_of(budget.monthly_usd, spent, mean, upper)
    return BudgetOutlook(budget, spent, mean, lower, upper, method, state)


def daily_spend(
    services: Sequence[str],
    daily: dict[tuple[str, str], list[tuple[date, float]]],
) -> list[tuple[date, float]]:
    """Daily cost of ``services`` together, from per-(service, metric) daily series."""
    total: dict[date, float] = {}
    for service in services:
        for day, value in daily.get((service, COST_METRIC), []):
            total[day] = total.get(day, 0.0) + value
    return sorted(total.items())
