"""The plan an account really pays for, from the FOCUS purchase lines, against limits.yaml.
Pure.

A plan of limits.yaml may name the ``purchase`` that bills it (Vercel Pro: a "Pro" line with
ChargeCategory Purchase). When the newest such purchase of an account's vendor names
another plan than the account's, the numbers of every recommendation rest on the wrong
plan: ``recommend``, ``status`` and the report say so. No purchase line is no evidence
(free plans have none; the export may not reach back far enough), so nothing is claimed.

The same lines confirm an upgrade: once limits.yaml puts an account on a recommended plan,
``recommend`` marks the recommendation IMPLEMENTED only when the bill shows that plan paid
for, if the vendor has purchase lines at all (``PaidPlan.confirms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from jobs.collect.records import Purchase
from jobs.limits.model import LimitsFile

# Purchase lines this recent say which plan an account pays for (a monthly plan's line
# covers its month; the previous month's still counts early in the next).
RECENT = timedelta(days=45)


@dataclass(frozen=True)
class PlanMismatch:
    account: str
    file_plan: str  # what limits.yaml says
    paid_plan: str  # what the purchase lines say
    purchase: Purchase
    # The file's plan is an upgrade of the paid one (its upgrades_to, step by step): most
    # likely an upgrade made (or approved) that the bill does not show yet.
    upgrade: bool = False

    @property
    def message(self) -> str:
        p = self.purchase
        shown = (
            f"account {self.account}: the FOCUS purchase lines show {p.service_name!r} "
            f"({self.paid_plan}, {p.start:%Y-%m-%d} .. {p.end:%Y-%m-%d}, "
            f"${p.effective_cost:,.2f}), but limits.yaml puts it on {self.file_plan}"
        )
        if self.upgrade:
            return (
                f"{shown}, an upgrade the bill does not show yet: once it is made, the next "
                f"purchase line confirms it; if it was not made, put the account back on "
                f"{self.paid_plan} in limits.yaml (the recommendations assume the file's plan)"
            )
        return f"{shown}: fix `accounts` in limits.yaml, the recommendations assume the file's plan"


@dataclass(frozen=True)
class PaidPlan:
    """What the recent purchase lines of an account's vendor say about its plan."""

    account: str
    vendor: str
    file_plan: str  # what limits.yaml says
    lines: int  # purchase lines of the vendor in the window (plans, add-ons, seats)
    purchasable: frozenset[str]  # the vendor's plans that name their purchase line
    plan: str | None = None  # the plan the newest purchase naming one bills
    purchase: Purchase | None = None  # that purchase

    def confirms(self, plan: str) -> bool | None:
        """Whether the bill shows ``plan`` paid for; None when it cannot tell: the vendor has
        no purchase line at all (free plans, usage-only vendors), or limits.yaml names no
        purchase line for ``plan``."""
        if not self.lines or plan not in self.purchasable:
            return None
        return self.plan == plan

    def shown(self) -> str:
        """The purchase behind ``plan``, as people read it."""
        p = self.purchase
        if p is None:
            return f"no purchase line of {self.vendor} names a plan in the last {RECENT.days} days"
        return (
            f"the newest purchase line is {p.service_name!r} ({self.plan}, "
            f"{p.start:%Y-%m-%d} .. {p.end:%Y-%m-%d}, ${p.effective_cost:,.2f})"
        )


def paid_plans(limits: LimitsFile, purchases: Sequence[Purchase]) -> list[PaidPlan]:
    """Per account, what its vendor's purchase lines (``RECENT`` ones) say."""
    found = []
    for account in limits.accounts:
        vendor = account.vendor.casefold()
        by_purchase = {
            p.purchase.casefold(): p.name
            for p in limits.plans
            if p.purchase and p.vendor.casefold() == vendor
        }
        lines = [p for p in purchases if p.provider.casefold() == vendor]
        paid = [p for p in lines if p.service_name.casefold() in by_purchase]
        state = PaidPlan(
            account.name,
            account.vendor,
            account.plan,
            len(lines),
            frozenset(by_purchase.values()),
        )
        if paid:
            newest = max(paid, key=lambda p: (p.end, p.start))
            state = replace(
                state, plan=by_purchase[newest.service_name.casefold()], purchase=newest
            )
        found.append(state)
    return found


def upgrades_of(limits: LimitsFile, plan: str) -> set[str]:
    """Every plan reachable from ``plan`` through ``upgrades_to``, step by step."""
    found: set[str] = set()
    todo = [plan]
    while todo:
        # The loader checks every upgrades_to names a plan of the file.
        for target in limits.plan(todo.pop()).upgrades_to:
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


def mismatches(limits: LimitsFile, paid: Sequence[PaidPlan]) -> list[PlanMismatch]:
    """The accounts whose newest purchase naming a plan names another plan than the file."""
    return [
        PlanMismatch(
            p.account,
            p.file_plan,
            p.plan,
            p.purchase,
            upgrade=p.file_plan in upgrades_of(limits, p.plan),
        )
        for p in paid
        if p.plan is not None and p.purchase is not None and p.plan != p.file_plan
    ]
