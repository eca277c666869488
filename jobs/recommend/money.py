"""What `recommend`, `status` and the report say about money beyond the recommendations:
the plan each account really pays for (FOCUS purchase lines) and the budgets' outlook.
Reads the database; the rules are in ``paid_plan`` and ``budget``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from jobs.db import wrap_errors
from jobs.limits.model import LimitsFile
from jobs.queries import query
from jobs.recommend import paid_plan, store
from jobs.recommend.assess import Settings, assess, start_of_day
from jobs.recommend.bill import Bill, bill
from jobs.recommend.budget import COST_METRIC, BudgetOutlook, daily_spend, outlook
from jobs.recommend.cases import AccountCase, SeriesKey, account_cases
from jobs.recommend.paid_plan import PaidPlan, PlanMismatch
from jobs.usage import BillingPeriod

# History the spend forecast may use.
LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class AccountBill:
    """An account's projected bill on its plan this period, at the usage forecasts' mean
    and upper edge."""

    account: str
    mean: Bill
    upper: Bill


@dataclass(frozen=True)
class Money:
    mismatches: tuple[PlanMismatch, ...]
    budgets: tuple[BudgetOutlook, ...]
    bills: tuple[AccountBill, ...] = ()
    paid: tuple[PaidPlan, ...] = ()  # per account, what its purchase lines say


NO_MONEY = Money((), ())  # no purchase line, no budget, no data: nothing to report


def _daily_billed(
    conn: psycopg.Connection, since: datetime, until: datetime, *, by_project: bool
) -> dict[tuple[str, str], list[tuple[date, float]]]:
    """Billed cost per day, keyed like usage: (service, "COST_USD"), or with ``by_project``
    ("SERVICE|project", "COST_USD"), a project named by its id or its name alike."""
    params = {"since": since, "until": until, "by_project": by_project}
    with wrap_errors("reading billed cost"), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("money", "daily_billed"), params).fetchall()
    totals: dict[tuple[str, str], dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        names = {r["project"], r["project_name"]} - {None, ""} if by_project else {None}
        for name in names:
            key = f"{r['service']}|{name}" if by_project else r["service"]
            totals[(key, COST_METRIC)][r["day"].date()] += float(r["value"])
    return {key: sorted(days.items()) for key, days in totals.items()}


def _projected_bill(
    case: AccountCase,
    daily: dict[SeriesKey, list[tuple[date, float]]],
    points: dict[SeriesKey, list[tuple[datetime, float]]],
    period: BillingPeriod,
    now: datetime,
) -> AccountBill | None:
    """The account's bill on its plan at the usage forecasts' mean and upper edge (None
    without any forecast)."""
    forecasts = [
        (a.series, a.terms.terms, a.forecast)
        for a in assess(case, daily, points, period, Settings(), now)
        if a.forecast is not None
    ]
    if not forecasts:
        return None
    price = case.current.price
    return AccountBill(
        case.account,
        bill(price, [(s, t, f.mean) for s, t, f in forecasts]),
        bill(price, [(s, t, f.upper) for s, t, f in forecasts]),
    )


def read(conn: psycopg.Connection, limits: LimitsFile, now: datetime) -> Money:
    period = BillingPeriod.containing(now)
    purchases = store.recent_purchases(conn, now - paid_plan.RECENT, as_of=now)
    paid = tuple(paid_plan.paid_plans(limits, purchases))
    mismatches = tuple(paid_plan.mismatches(limits, paid))
    today = start_of_day(now)
    daily = store.daily_series(conn, today - LOOKBACK, today, as_of=now)
    points = store.period_points(conn, period.start, period.end, as_of=now)
    bills = {
        b.account: b
        for case in account_cases(limits)
        if (b := _projected_bill(case, daily, points, period, now)) is not None
    }
    if not limits.budgets:
        return Money(mismatches, (), tuple(bills.values()), paid)
    billed = _daily_billed(conn, today - LOOKBACK, today, by_project=False)
    by_project = (
        _daily_billed(conn, today - LOOKBACK, today, by_project=True)
        if any(b.project for b in limits.budgets)
        else {}
    )
    outlooks = []
    for budget in limits.budgets:
        account = limits.account(budget.account)
        services = [s.service for s in limits.account_services(account.name)]
        if budget.project is None:
            spend = daily_spend(services, billed)
            fixed = sum(
                p.billed_cost
                for p in purchases
                if p.provider.casefold() == account.vendor.casefold()
                and period.start <= p.start < period.end
            )
            projected_bill = bills.get(account.name)
            projected = (
                (projected_bill.mean.total, projected_bill.upper.total)
                if projected_bill
                else (0.0, 0.0)
            )
        else:
            spend = daily_spend([f"{s}|{budget.project}" for s in services], by_project)
            fixed, projected = 0.0, (0.0, 0.0)
        outlooks.append(outlook(budget, spend, fixed, period, now, projected))
    return Money(mismatches, tuple(outlooks), tuple(bills.values()), paid)
