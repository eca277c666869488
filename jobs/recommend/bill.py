"""The bill of one billing period on one plan. Pure.

A plan's bill is its base price, plus what its meters charge on demand: a meter with an
allowance of its own bills usage beyond the included amount; meters without one draw the
plan's usage credit together (Vercel Pro: $20), and only what exceeds the credit is billed;
a hard limit bills nothing (the feature pauses instead, and the meter is marked paused).

total = base price + on-demand, where on-demand = Σ own overage + max(0, Σ drawn - credit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MeterTerms:
    """What one plan says about one meter (canonical units)."""

    limit: float  # where the plan's allowance ends (inf: no limit)
    included: float  # amount included in the price
    overage_rate: float  # USD per canonical unit beyond ``included``
    hard: bool  # True: the feature pauses at ``limit``
    # True: the meter has no allowance of its own but draws the plan's usage credit.
    draws_credit: bool = False

    def charge(self, usage: float) -> float:
        """What this meter alone charges beyond its allowance (credit meters: all of it)."""
        if self.hard:
            return 0.0
        if self.draws_credit:
            return usage * self.overage_rate
        return max(0.0, usage - self.included) * self.overage_rate


@dataclass(frozen=True)
class PlanPrice:
    """A plan's fixed price per billing period and the usage credit it includes."""

    name: str
    monthly_price: float
    usage_credit: float = 0.0  # USD of usage included, shared by the meters that draw it


@dataclass(frozen=True)
class MeterCharge:
    meter: str  # SERVICE/METRIC
    usage: float
    charge: float  # own overage, or (credit meters) the amount drawn from the credit first
    draws_credit: bool
    paused: bool  # a hard limit the usage reaches: the feature pauses instead of billing

    def to_json(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "usage": self.usage,
            "charge": self.charge,
            "drawsCredit": self.draws_credit,
            "paused": self.paused,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeterCharge:
        return cls(
            str(data["meter"]),
            float(data["usage"]),
            float(data["charge"]),
            bool(data["drawsCredit"]),
            bool(data["paused"]),
        )


@dataclass(frozen=True)
class Bill:
    plan: str
    base: float  # the plan's price
    credit: float  # the usage credit included in the price
    credit_drawn: float  # of which the meters use this much
    on_demand: float  # billed beyond the price
    meters: tuple[MeterCharge, ...]

    @property
    def total(self) -> float:
        return self.base + self.on_demand

    @property
    def paused(self) -> tuple[str, ...]:
        return tuple(m.meter for m in self.meters if m.paused)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "base": self.base,
            "credit": self.credit,
            "creditDrawn": self.credit_drawn,
            "onDemand": self.on_demand,
            "total": self.total,
            "meters": [m.to_json() for m in self.meters],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bill:
        return cls(
            str(data["plan"]),
            float(data["base"]),
            float(data["credit"]),
            float(data["creditDrawn"]),
            float(data["onDemand"]),
            tuple(MeterCharge.from_json(m) for m in data["meters"]),
        )


def bill(price: PlanPrice, usage: Sequence[tuple[str, MeterTerms, float]]) -> Bill:
    """The plan's bill for (meter, terms, usage) triples."""
    meters = tuple(
        MeterCharge(meter, used, terms.charge(used), terms.draws_credit, _paused(terms, used))
        for meter, terms, used in usage
    )
    own = sum(m.charge for m in meters if not m.draws_credit)
    drawn = sum(m.charge for m in meters if m.draws_credit)
    return Bill(
        plan=price.name,
        base=price.monthly_price,
        credit=price.usage_credit,
        credit_drawn=min(drawn, price.usage_credit),
        on_demand=own + max(0.0, drawn - price.usage_credit),
        meters=meters,
    )


def _paused(terms: MeterTerms, usage: float) -> bool:
    return terms.hard and usage >= terms.limit
