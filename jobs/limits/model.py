"""The limits file as frozen, validated objects, and the table row each limit becomes.

``LimitsFile`` is what ``jobs.limits.loader.load`` returns: plans with their monthly
price and upgrade paths, the active plan and business inputs per service, and one
``Limit`` per service x metric x plan. ``LimitRow`` is the same limit as a row of the
``InfrastructureLimit`` table (values in the metric's canonical unit), used by the Pulumi
provider and by ``python -m jobs limits diff``.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from jobs.model import canonical_unit
from jobs.recommend.evaluation import Thresholds  # the alert thresholds the evaluation applies

# The natural key of a limit (the table's unique index) and the columns the file decides.
Key = tuple[str, str, str]  # (service, metricType, plan)
VALUE_COLUMNS = (
    "limitValue",
    "unit",
    "warningThreshold",
    "criticalThreshold",
    "includedAmount",
    "overageUnitPrice",
    "isHardLimit",
    "sourceUrl",
    "sourceDate",
)


def key_label(key: Key) -> str:
    """``VERCEL_KV/STORAGE_MB/upstash-free``: how messages and reports name a limit."""
    return "/".join(key)


class LimitKind(enum.StrEnum):
    """How a plan meters usage of one metric."""

    # A published allowance: a hard cap (the feature pauses) or the amount included before
    # overage is billed.
    ALLOWANCE = "allowance"
    # No allowance of its own: the meter draws the plan's monthly usage credit (Vercel Pro).
    # The limit is what the whole credit buys of this meter alone.
    CREDIT = "credit"
    # Billed from the first unit, with no allowance to alert on (Neon Launch compute). Kept
    # for the cost model; not a row of the table.
    NONE = "none"


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    read: date


@dataclass(frozen=True)
class Plan:
    name: str
    vendor: str
    monthly_price_usd: float
    usage_credit_usd: float
    hard: bool  # default of its limits: exceeding pauses the feature
    upgrades_to: tuple[str, ...]
    source: Source
    # The ServiceName of the FOCUS purchase line that bills this plan (Vercel: "Pro").
    purchase: str | None = None


@dataclass(frozen=True)
class Business:
    monthly_revenue_usd: float
    degraded_hours: float  # default for every service


@dataclass(frozen=True)
class Account:
    """A vendor account (a Vercel team, a Neon org or project, an Upstash account): one plan
    for every service in it, so an upgrade is one decision for all of them."""

    name: str
    plan: str  # the plan the account is on today
    vendor: str
    line: int  # where the account is defined (or its first service, when implied)
    implied: bool = False  # True: the file has no `accounts` section, one per vendor


@dataclass(frozen=True)
class Budget:
    """A USD amount per billing period for an account, or for one project of it."""

    account: str
    monthly_usd: float
    project: str | None  # None: the whole account
    line: int

    @property
    def label(self) -> str:
        return f"{self.account}/{self.project}" if self.project else self.account


@dataclass(frozen=True)
class ServiceSettings:
    service: str
    plan: str  # the active plan today: its account's plan
    revenue_share: float  # share of revenue that depends on the service, 0..1
    degraded_hours: float  # hours a paused feature stays degraded
    account: str = ""  # the account it belongs to


@dataclass(frozen=True)
class LimitRow:
    """One row of ``InfrastructureLimit``, in canonical units."""

    service: str
    metric_type: str
    plan: str
    limit_value: float
    unit: str
    warning: float
    critical: float
    included_amount: float
    overage_unit_price: float
    is_hard: bool
    source_url: str | None
    source_date: date | None

    @property
    def key(self) -> Key:
        return (self.service, self.metric_type, self.plan)

    def values(self) -> dict[str, Any]:
        """The file-decided columns by column name; dates as ISO text (JSON and Pulumi safe)."""
        return {
            "limitValue": self.limit_value,
            "unit": self.unit,
            "warningThreshold": self.warning,
            "criticalThreshold": self.critical,
            "includedAmount": self.included_amount,
            "overageUnitPrice": self.overage_unit_price,
            "isHardLimit": self.is_hard,
            "sourceUrl": self.source_url,
            "sourceDate": self.source_date.isoformat() if self.source_date else None,
        }

    def columns(self) -> dict[str, Any]:
        return {"service": self.service, "metricType": self.metric_type, "plan": self.plan} | (
            self.values()
        )

    @classmethod
    def from_columns(cls, columns: dict[str, Any]) -> LimitRow:
        """From a table row or resource properties (numbers may arrive as floats or ints)."""
        source_date = columns.get("sourceDate")
        if isinstance(source_date, str):
            source_date = date.fromisoformat(source_date)
        return cls(
            service=str(columns["service"]),
            metric_type=str(columns["metricType"]),
            plan=str(columns["plan"]),
            limit_value=float(columns["limitValue"]),
            unit=str(columns["unit"]),
            warning=float(columns["warningThreshold"]),
            critical=float(columns["criticalThreshold"]),
            included_amount=float(columns["includedAmount"]),
            overage_unit_price=float(columns["overageUnitPrice"]),
            is_hard=bool(columns["isHardLimit"]),
            source_url=columns.get("sourceUrl"),
            source_date=source_date,
        )


@dataclass(frozen=True)
class Limit:
    """One service x metric x plan as the file says it (values in canonical units)."""

    service: str
    metric_type: str
    plan: str
    kind: LimitKind
    limit_value: float | None  # None for LimitKind.NONE
    included_amount: float
    overage_unit_price: float  # USD per one canonical unit beyond the included amount
    is_hard: bool
    thresholds: Thresholds
    source: Source
    line: int  # where the row starts in the file

    @property
    def key(self) -> Key:
        return (self.service, self.metric_type, self.plan)

    @property
    def unit(self) -> str:
        return canonical_unit(self.metric_type)

    def row(self) -> LimitRow | None:
        """The table row, or None for a meter without an allowance."""
        if self.limit_value is None:
            return None
        return LimitRow(
            service=self.service,
            metric_type=self.metric_type,
            plan=self.plan,
            limit_value=self.limit_value,
            unit=self.unit,
            warning=self.thresholds.warning,
            critical=self.thresholds.critical,
            included_amount=self.included_amount,
            overage_unit_price=self.overage_unit_price,
            is_hard=self.is_hard,
            source_url=self.source.url,
            source_date=self.source.read,
        )


@dataclass(frozen=True)
class LimitsFile:
    path: str  # as given, for messages
    thresholds: Thresholds  # the defaults
    business: Business
    sources: tuple[Source, ...]
    plans: tuple[Plan, ...]
    services: tuple[ServiceSettings, ...]
    limits: tuple[Limit, ...]
    accounts: tuple[Account, ...] = ()
    budgets: tuple[Budget, ...] = ()

    # Lookups by name and key (cached_property writes past the frozen __setattr__).
    @functools.cached_property
    def _plans(self) -> dict[str, Plan]:
        return {p.name: p for p in self.plans}

    @functools.cached_property
    def _services(self) -> dict[str, ServiceSettings]:
        return {s.service: s for s in self.services}

    @functools.cached_property
    def _limits(self) -> dict[Key, Limit]:
        return {x.key: x for x in self.limits}

    def plan(self, name: str) -> Plan:
        return self._plans[name]

    def account(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def account_services(self, name: str) -> tuple[ServiceSettings, ...]:
        return tuple(s for s in self.services if s.account == name)

    def service(self, service: str) -> ServiceSettings | None:
        return self._services.get(service)

    def active_plan(self, service: str) -> str | None:
        """The plan ``service`` is on today, or None when the file does not say."""
        settings = self.service(service)
        return settings.plan if settings else None

    def limit(self, service: str, metric_type: str, plan: str) -> Limit | None:
        return self._limits.get((service, metric_type, plan))

    def rows(self) -> tuple[LimitRow, ...]:
        """The rows of ``InfrastructureLimit`` this file asks for, in file order."""
        return tuple(row for limit in self.limits if (row := limit.row()) is not None)
