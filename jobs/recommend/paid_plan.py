"""The plan an account really pays for, from the FOCUS purchase lines, against limits.yaml.
Pure.

A plan of limits.yaml may name the ``purchase`` that bills it (Vercel Pro: a "Pro" line with
ChargeCategory Purchase). When the newest such purchase of an account's vendor names
another plan than the account's, the numbers of every recommendation rest on the wrong
plan: ``recommend``, ``status`` and the report say so. No purchase line is no evidence
(free plans have none; the export may not reach back far enough), so nothing is claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

    @property
    def message(self) -> str:
        p = self.purchase
        return (
            f"account {self.account}: the FOCUS purchase lines show {p.service_name!r} "
            f"({self.paid_plan}, {p.start:%Y-%m-%d} .. {p.end:%Y-%m-%d}, "
            f"${p.effective_cost:,.2f}), but limits.yaml puts it on {self.file_plan}: "
            "fix `accounts` in limits.yaml, the recommendations assume the file's plan"
        )


def mismatches(limits: LimitsFile, purchases: Sequence[Purchase]) -> list[PlanMismatch]:
    """Per account, the newest purchase naming a plan of its vendor, when it is another plan."""
    found = []
    for account in limits.accounts:
        vendor = account.vendor.casefold()
        by_purchase = {
            p.purchase.casefold(): p.name
            for p in limits.plans
            if p.purchase and p.vendor.casefold() == vendor
        }
        paid = [
            p
            for p in purchases
            if p.provider.casefold() == vendor and p.service_name.casefold() in by_purchase
        ]
        if not paid:
            continue
        newest = max(paid, key=lambda p: (p.end, p.start))
        plan = by_purchase[newest.service_name.casefold()]
        if plan != account.plan:
            found.append(PlanMismatch(account.name, account.plan, plan, newest))
    return found
