"""Amounts and prices as people write them in limits.yaml, in the metric's canonical unit.

``"1 TB"`` of BANDWIDTH_GB is 1000 (GB); ``"$2.00 per 1M requests"`` of REQUESTS is
0.000002 (USD per request). Pure functions; units come from ``jobs.model``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from jobs.model import UnitMismatch, canonical_unit, unit_factor

# A count may carry a multiplier written against it: 10K, 1M, 2B (thousand, million, billion).
MULTIPLIERS = {"": Decimal(1), "K": Decimal(10**3), "M": Decimal(10**6), "B": Decimal(10**9)}
_NUMBER = r"(?P<number>\d+(?:\.\d+)?)(?P<multiplier>[KMB]?)"
_QUANTITY = re.compile(rf"^(?P<sign>-?){_NUMBER}\s+(?P<unit>\S.*?)$")
_PRICE = re.compile(
    r"^(?P<sign>-?)\$\s*(?P<sign2>-?)(?P<price>\d+(?:\.\d+)?)\s+per\s+"
    rf"(?:{_NUMBER}\s+)?(?P<unit>\S.*?)$"
)
# Units that count things, which read best with a multiplier (10M requests, not 10,000,000).
COUNTS = frozenset({"requests", "invocations", "operations", "events", "builds"})
QUANTITY_EXAMPLE = "a number and a unit, like '100 GB' or '1M requests'"
PRICE_EXAMPLE = "a price like '$0.15 per GB' or '$2.00 per 1M requests'"


class QuantityError(ValueError):
    """The text is not a quantity or price of this metric; the message says why."""


def _count(number: str | None, multiplier: str | None) -> Decimal:
    return Decimal(number or 1) * MULTIPLIERS[multiplier or ""]


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` in decimal: $0.40 per 1M is 4e-07, not 4.0000000000000003e-07."""
    return float(_decimal(numerator) / _decimal(denominator))


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def quantity(text: str, metric_type: str) -> float:
    """``"100 GB"`` -> the amount in ``metric_type``'s canonical unit.

    Raises QuantityError when the text is not "<number>[K|M|B] <unit>" or the unit does
    not measure the metric type.
    """
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise QuantityError(f"{text!r} is not {QUANTITY_EXAMPLE}")
    if match["sign"]:
        raise QuantityError(f"{text!r} is negative")
    return float(
        _count(match["number"], match["multiplier"]) * _fitting(metric_type, match["unit"])
    )


def price(text: str, metric_type: str) -> float:
    """``"$2.00 per 1M requests"`` -> USD per one canonical unit of ``metric_type``."""
    match = _PRICE.match(text.strip())
    if match is None:
        raise QuantityError(f"{text!r} is not {PRICE_EXAMPLE}")
    if match["sign"] or match["sign2"]:
        raise QuantityError(f"{text!r} is negative; prices must not be negative")
    per = _count(match["number"], match["multiplier"]) * _fitting(metric_type, match["unit"])
    if per == 0:
        raise QuantityError(f"{text!r} is a price per zero units")
    return float(Decimal(match["price"]) / per)


def _fitting(metric_type: str, unit: str) -> Decimal:
    try:
        return _decimal(unit_factor(metric_type, unit))
    except UnitMismatch as exc:
        raise QuantityError(str(exc)) from None


def describe(value: float, metric_type: str) -> str:
    """A canonical amount for people: 1000000 requests -> "1M requests"."""
    unit = canonical_unit(metric_type)
    if unit not in COUNTS:
        return f"{number(value)} {unit}"
    for suffix, factor in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        scaled = value / factor
        if scaled >= 1 and scaled == round(scaled, 3):
            return f"{scaled:g}{suffix} {unit}"
    return f"{number(value)} {unit}"


def number(value: float) -> str:
    """Thousands separated, small fractions without an exponent: 33,333,333 / 0.5 / 0.000023."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 0.001:
        return f"{value:.6g}"
    return f"{value:.12f}".rstrip("0")


def describe_price(value: float, metric_type: str) -> str:
    """USD per canonical unit for people: 4e-07 per operation -> "$0.4 per 1M operations"."""
    unit = canonical_unit(metric_type)
    if unit in COUNTS and 0 < value < 0.01:
        for suffix, factor in (("K", 1e3), ("M", 1e6), ("B", 1e9)):
            if value * factor >= 0.01:
                return f"${number(ratio(value * factor, 1.0))} per 1{suffix} {unit}"
    # One of a plural canonical unit: per minute, per CPU-hour (ms is not a plural).
    one = unit[:-1] if unit.endswith("s") and unit != "ms" else unit
    return f"${number(value)} per {one}"


def approximate(value: float, metric_type: str) -> str:
    """A measured amount for people, to 3-4 significant digits: 6.78M requests, 566.5 GB."""
    unit = canonical_unit(metric_type)
    if unit in COUNTS:
        for suffix, factor in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if abs(value) >= factor:
                return f"{value / factor:.3g}{suffix} {unit}"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:.4g} {unit}"
