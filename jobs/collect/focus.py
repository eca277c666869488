"""FOCUS charges (Vercel's ``/v1/billing/charges`` lines, or a FOCUS export file) to metric rows.

Pure: ``parse_charge`` validates one record into a ``Charge`` (raising PayloadError with
the place named), ``ChargeTotals`` adds charges up per series and charge period (Vercel's
days run from Los Angeles midnight to the next; each row keeps the charge's own period).
Only ``ChargeCategory = Usage`` counts as usage and cost of a service; other categories
(Purchase, Credit, Adjustment, Tax) are counted in the notes, not stored.

Cost is ``EffectiveCost`` (on commitment and credit plans ``BilledCost`` is often 0 while
``EffectiveCost`` carries the amortised cost); ``BilledCost`` stays in the metadata as
evidence. Every usage line's cost is stored, whatever its name or unit: the sum of
COST_USD equals the sum of ``EffectiveCost`` of the usage lines (in USD), always.
A line without ``ConsumedQuantity``/``ConsumedUnit`` keeps its cost and adds no usage.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.collect.records import MetricRow, Purchase, utc_naive
from jobs.collect.vercel_services import find_meter, other_meter, our_unit
from jobs.errors import PayloadError
from jobs.model import AGGREGATION, UnitMismatch, unit_factor
from jobs.periods import BillingPeriod

VERCEL_PROVIDER = "vercel"
VERCEL_BILLING_SOURCE = "vercel-billing"


@dataclass(frozen=True)
class Charge:
    start: datetime
    end: datetime
    category: str
    service_name: str
    provider: str
    quantity: float | None
    unit: str | None
    billed_cost: float
    effective_cost: float
    currency: str
    project: str  # Tags.ProjectId (else ProjectName); "" when the line has none
    project_name: str | None
    pricing_quantity: float | None
    pricing_unit: str | None


def _text(record: Mapping[str, Any], name: str, where: str, *, required: bool) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(f"{where}: {name} is missing")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: {name} must be text, not {value!r}")
    return value.strip()


def _number(record: Mapping[str, Any], name: str, where: str, *, required: bool) -> float | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PayloadError(f"{where}: {name} is missing")
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{where}: {name} is not a number: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise PayloadError(f"{where}: {name} is not a number: {value!r:.60}") from None
    if not math.isfinite(number):
        raise PayloadError(f"{where}: {name} is not a finite number: {value!r}")
    return number


def parse_time(value: object, name: str, where: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{where}: {name} is missing")
    try:
        return utc_naive(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise PayloadError(f"{where}: {name} is not an ISO 8601 time: {value!r}") from None


def _tags(value: object, where: str) -> Mapping[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # CSV exports carry Tags as JSON text
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            raise PayloadError(f"{where}: Tags is not a JSON object") from None
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: Tags is not an object")
    return value


def parse_charge(record: object, where: str) -> Charge:
    """One FOCUS record, validated; ``where`` names it in errors (``file:line``, ``line 3``)."""
    if not isinstance(record, dict):
        raise PayloadError(f"{where}: a charge must be a JSON object")
    start = parse_time(record.get("ChargePeriodStart"), "ChargePeriodStart", where)
    end = parse_time(record.get("ChargePeriodEnd"), "ChargePeriodEnd", where)
    if end <= start:
        raise PayloadError(f"{where}: ChargePeriodEnd is not after ChargePeriodStart")
    category = _text(record, "ChargeCategory", where, required=True) or ""
    # Null when a charge involves no measurable quantity (vercel/sdk): the cost still counts.
    quantity = _number(record, "ConsumedQuantity", where, required=False)
    if quantity is not None and quantity < 0:
        raise PayloadError(f"{where}: ConsumedQuantity is negative: {quantity:g}")
    billed = _number(record, "BilledCost", where, required=True) or 0.0
    effective = _number(record, "EffectiveCost", where, required=False)
    tags = _tags(record.get("Tags"), where)
    project = tags.get("ProjectId") or tags.get("ProjectName")
    name = tags.get("ProjectName")
    return Charge(
        start=start,
        end=end,
        category=category,
        service_name=_text(record, "ServiceName", where, required=True) or "",
        provider=_text(record, "ServiceProviderName", where, required=True) or "",
        quantity=quantity,
        unit=_text(record, "ConsumedUnit", where, required=False),
        billed_cost=billed,
        effective_cost=billed if effective is None else effective,
        currency=(_text(record, "BillingCurrency", where, required=False) or "USD").upper(),
        project=str(project) if project else "",
        project_name=str(name) if name else None,
        pricing_quantity=_number(record, "PricingQuantity", where, required=False),
        pricing_unit=_text(record, "PricingUnit", where, required=False),
    )


def source_for(charge: Charge) -> str:
    """Vercel's own export shares the API stream's name, so file and API never double count."""
    if charge.provider.casefold() == VERCEL_PROVIDER:
        return VERCEL_BILLING_SOURCE
    return f"focus:{charge.provider}"


def level_factor(metric_type: str, unit: str, start: datetime, end: datetime) -> float:
    """For a level (storage) billed as a time integral (GB-month, GB-hours), the factor that
    turns the window's integral into the average level over the window; 1 otherwise."""
    if AGGREGATION[metric_type].over_time != "last":
        return 1.0
    hours = (end - start) / timedelta(hours=1)
    spelled = unit.casefold()
    if spelled.endswith("-month"):
        return BillingPeriod.of_window(start, end).hours / hours
    if spelled.endswith(("-hours", "-hour")):
        return 1 / hours
    return 1.0


@dataclass
class _Total:
    end: datetime
    value: float = 0.0
    billed: float = 0.0
    charges: int = 0
    without_quantity: int = 0

    def __post_init__(self) -> None:
        self.by_meter: dict[str, float] = defaultdict(float)
        self.project_names: set[str] = set()
        # ServiceName -> unit -> quantity: ConsumedQuantity (of usage, or of a cost-only
        # meter on its cost row) and PricingQuantity (on cost rows).
        self.consumed: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.pricing: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


Key = tuple[str, str, str, str, datetime]  # source, service, metric type, project, start


class ChargeTotals:
    """Charges added up into one row per source x service x metric type x project x charge
    period (the natural key of InfrastructureMetric)."""

    def __init__(
        self, source: Callable[[Charge], str] = source_for, now: datetime | None = None
    ) -> None:
        self._source = source
        self._now = now  # a charge starting after it is refused (it cannot have happened)
        self._totals: dict[Key, _Total] = {}
        self.unmapped: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.purchases: list[Purchase] = []  # kept apart: they say which plan is paid for
        self.refused: Counter[str] = Counter()
        self.charges = 0

    def add(self, charge: Charge, window: tuple[datetime, datetime] | None = None) -> bool:
        """Add one charge; True when it counted as usage. ``window`` is the [from, to) it
        was asked for: a charge that did not end inside it is refused, as is one that
        starts in the future."""
        self.charges += 1
        if window is not None and not window[0] <= charge.end < window[1]:
            self.refused["outside the requested window"] += 1
            return False
        if self._now is not None and charge.start >= self._now:
            self.refused[f"starting in the future (after {self._now:%Y-%m-%d %H:%M} UTC)"] += 1
            return False
        if charge.category.casefold() != "usage":
            if charge.category.casefold() != "purchase":
                self.skipped[charge.category] += 1
            else:
                self.purchases.append(
                    Purchase(
                        charge.provider,
                        charge.service_name,
                        charge.start,
                        charge.end,
                        charge.billed_cost,
                        charge.effective_cost,
                    )
                )
            return False
        meter = find_meter(charge.service_name)
        if meter is None:
            meter = other_meter(charge.service_name)
            self.unmapped[f"service {meter.service_name!r} (cost kept as {meter.service})"] += 1
        source = self._source(charge)
        if charge.currency == "USD":
            cost = self._total(
                (source, meter.service, "COST_USD", charge.project, charge.start),
                charge,
                charge.end,
            )
            cost.value += charge.effective_cost
            cost.billed += charge.billed_cost
            cost.by_meter[charge.service_name] += charge.effective_cost
            if charge.pricing_unit and charge.pricing_quantity is not None:
                cost.pricing[charge.service_name][charge.pricing_unit] += charge.pricing_quantity
            if charge.quantity is None:
                cost.without_quantity += 1
            elif meter.metric_type is None:
                cost.consumed[charge.service_name][charge.unit or ""] += charge.quantity
        else:
            self.unmapped[f"currency {charge.currency!r} (cost not stored)"] += 1
        if meter.metric_type is None or charge.quantity is None:
            return True
        unit = our_unit(charge.unit or "")
        try:
            factor = unit_factor(meter.metric_type, unit)
        except UnitMismatch:
            self.unmapped[f"unit {charge.unit!r} of {charge.service_name!r}"] += 1
            return True
        factor *= level_factor(meter.metric_type, unit, charge.start, charge.end)
        value = charge.quantity * factor
        usage = self._total(
            (source, meter.service, meter.metric_type, charge.project, charge.start),
            charge,
            charge.end,
        )
        usage.value += value
        usage.consumed[charge.service_name][charge.unit or ""] += charge.quantity
        return True

    def _total(self, key: Key, charge: Charge, end: datetime) -> _Total:
        total = self._totals.get(key)
        if total is None:
            total = self._totals[key] = _Total(end)
        total.end = max(total.end, end)
        total.charges += 1
        if charge.project_name:
            total.project_names.add(charge.project_name)
        return total

    def rows(self) -> list[MetricRow]:
        rows = []
        for (source, service, metric, project, start), total in sorted(self._totals.items()):
            if metric == "COST_USD":
                metadata: dict[str, Any] = {
                    "billedCost": _round(total.billed),
                    "currency": "USD",
                    "services": _rounded(total.by_meter),
                    "pricing": {k: _rounded(v) for k, v in sorted(total.pricing.items())},
                }
                if total.consumed:  # the quantities of cost-only meters
                    metadata["consumed"] = {
                        k: _rounded(v) for k, v in sorted(total.consumed.items())
                    }
                if total.without_quantity:
                    metadata["withoutQuantity"] = total.without_quantity
            else:
                metadata = {"consumed": {k: _rounded(v) for k, v in sorted(total.consumed.items())}}
            if total.project_names:
                metadata["projectName"] = ", ".join(sorted(total.project_names))
            metadata["charges"] = total.charges
            value = _round(total.value)
            if value < 0:  # credits inside usage lines; the table holds amounts >= 0
                self.unmapped[f"negative cost of {service} on {start:%Y-%m-%d}"] += 1
                continue
            rows.append(
                MetricRow(service, metric, value, start, total.end, source, metadata, project)
            )
        return rows

    def notes(self) -> list[str]:
        notes = [f"{n} charges {why} not stored" for why, n in sorted(self.refused.items())]
        if self.skipped:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.skipped.items()))
            notes.append(f"{sum(self.skipped.values())} non-usage charges not stored ({kinds})")
        if self.purchases:
            notes.append(f"{len(self.purchases)} purchase lines kept as the plans paid for")
        return notes


def _round(value: float) -> float:
    # Sums of decimal amounts carry float noise; 12 significant digits keep re-runs identical.
    if not math.isfinite(value):
        raise PayloadError("amounts add up to more than a number can hold")
    return float(f"{value:.12g}") if value else 0.0


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {k: _round(v) for k, v in sorted(values.items())}
