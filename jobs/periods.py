"""Billing days and billing periods as Vercel draws them (pure, no IO).

Vercel's charge days and billing periods run from midnight to midnight in Los Angeles
(vercel/vercel ``packages/cli/src/util/billing/period-utils.ts``): a day is 24 hours, or
23/25 on the days the clocks change, and starts at 08:00 or 07:00 UTC. Times here are
naive UTC, as stored in ``TIMESTAMP(3)``.

The one rule for "which billing period does a window belong to": the period that holds
the window's midpoint (``BillingPeriod.holds``; the SQL queries that select a period's
windows spell the same test). A Vercel day, a UTC day (Neon, Upstash, deployments) and an
hour all land in the month most of them lies in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PROVIDER_ZONE = ZoneInfo("America/Los_Angeles")


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def local_date(moment: datetime) -> date:
    """The Los Angeles calendar date of a (naive UTC) moment."""
    return _utc_naive(moment).replace(tzinfo=UTC).astimezone(PROVIDER_ZONE).date()


def midnight(day: date) -> datetime:
    """Los Angeles midnight starting ``day``, as naive UTC."""
    return _utc_naive(datetime.combine(day, time(), tzinfo=PROVIDER_ZONE))


def billing_day(moment: datetime) -> datetime:
    """The start (naive UTC) of the billing day holding ``moment``."""
    return midnight(local_date(moment))


def next_billing_day(moment: datetime) -> datetime:
    """The start of the billing day after the one holding ``moment``."""
    return midnight(local_date(moment) + timedelta(days=1))


def billing_days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The billing days (start, end) from the day holding ``start`` until ``end``."""
    day = billing_day(start)
    while day < end:
        following = next_billing_day(day)
        yield day, following
        day = following


@dataclass(frozen=True)
class BillingPeriod:
    """A billing month: Los Angeles midnight of its first day to that of the next month."""

    start: datetime  # inclusive, naive UTC (as stored)
    end: datetime  # exclusive

    @classmethod
    def containing(cls, moment: datetime) -> BillingPeriod:
        """The billing month (Los Angeles calendar month) holding ``moment``."""
        first = local_date(moment).replace(day=1)
        following = (
            first.replace(year=first.year + 1, month=1)
            if first.month == 12
            else first.replace(month=first.month + 1)
        )
        return cls(midnight(first), midnight(following))

    @classmethod
    def of_window(cls, start: datetime, end: datetime) -> BillingPeriod:
        """The billing period a window [start, end) belongs to: the one holding its midpoint."""
        return cls.containing(_utc_naive(start) + (_utc_naive(end) - _utc_naive(start)) / 2)

    def holds(self, start: datetime, end: datetime) -> bool:
        """Whether the window [start, end) belongs to this period (see the module's rule)."""
        return BillingPeriod.of_window(start, end) == self

    def holds_day(self, day: date) -> bool:
        """``holds`` for the UTC day ``day`` (a daily series' point), without time zones:
        its midpoint, noon UTC, lies in the period."""
        noon = datetime.combine(day, time(12))
        return self.start <= noon < self.end

    @property
    def hours(self) -> float:
        return (self.end - self.start) / timedelta(hours=1)
