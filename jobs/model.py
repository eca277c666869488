"""The vocabulary shared by every job: services, metric types and their units.

The enum values are read from the deploy files in ``sql/deploy``, which are their one
source of truth; the unit table below says, for each metric type, the unit values are
stored in and which other units convert to it.

Units are SI (decimal): 1 GB = 1000 MB = 10^9 bytes, as the providers bill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from jobs.errors import MonitoringError
from jobs.paths import SQL_DIR

_ENUM = re.compile(r"CREATE\s+TYPE\s+\"(?P<name>\w+)\"\s+AS\s+ENUM\s*\((?P<body>[^)]*)\)", re.I)


@cache
def enum_labels(type_name: str) -> tuple[str, ...]:
    """The labels of enum ``type_name`` in the order its deploy file declares them."""
    text = (SQL_DIR / "deploy" / f"{type_name}.sql").read_text(encoding="utf-8")
    text = re.sub(r"--[^\n]*", "", text)
    match = _ENUM.search(text)
    if match is None or match["name"] != type_name:
        raise MonitoringError(f"sql/deploy/{type_name}.sql does not declare enum {type_name}")
    return tuple(re.findall(r"'([^']*)'", match["body"]))


SERVICES: tuple[str, ...] = enum_labels("InfrastructureService")
METRIC_TYPES: tuple[str, ...] = enum_labels("MetricType")
PRIORITIES: tuple[str, ...] = enum_labels("RecommendationPriority")
STATUSES: tuple[str, ...] = enum_labels("RecommendationStatus")


class UnitMismatch(MonitoringError):
    """A unit that does not measure what the metric type measures."""


@dataclass(frozen=True)
class UnitRule:
    canonical: str
    # Other spellings and units, with the factor that converts one of them to ``canonical``.
    accepts: tuple[tuple[str, float], ...] = ()


_BYTES_TO_MB = 1e-6
_BYTES_TO_GB = 1e-9

UNITS: dict[str, UnitRule] = {
    "STORAGE_MB": UnitRule(
        "MB",
        (
            ("B", _BYTES_TO_MB),
            ("bytes", _BYTES_TO_MB),
            ("KB", 1e-3),
            ("GB", 1e3),
            ("TB", 1e6),
            ("GB-month", 1e3),
            ("MB-month", 1.0),
            ("GB-hours", 1e3),  # a time integral: jobs.collect.focus turns it into a level
        ),
    ),
    "BANDWIDTH_GB": UnitRule(
        "GB",
        (("B", _BYTES_TO_GB), ("bytes", _BYTES_TO_GB), ("KB", 1e-6), ("MB", 1e-3), ("TB", 1e3)),
    ),
    "INVOCATIONS": UnitRule("invocations", (("invocation", 1.0), ("count", 1.0))),
    "REQUESTS": UnitRule("requests", (("request", 1.0), ("count", 1.0))),
    "OPERATIONS": UnitRule(
        "operations",
        (
            ("operation", 1.0),
            ("ops", 1.0),
            ("commands", 1.0),
            ("command", 1.0),
            ("transformations", 1.0),
            ("units", 1.0),
            ("count", 1.0),
        ),
    ),
    "READ_OPERATIONS": UnitRule(
        "operations", (("operation", 1.0), ("reads", 1.0), ("read", 1.0), ("count", 1.0))
    ),
    "WRITE_OPERATIONS": UnitRule(
        "operations", (("operation", 1.0), ("writes", 1.0), ("write", 1.0), ("count", 1.0))
    ),
    "BUILD_MINUTES": UnitRule(
        "minutes",
        (
            ("minute", 1.0),
            ("min", 1.0),
            ("seconds", 1 / 60),
            ("s", 1 / 60),
            ("hours", 60.0),
            ("ms", 1 / 60000),
        ),
    ),
    "CPU_HOURS": UnitRule(
        "CPU-hours",
        (
            ("CPU-hour", 1.0),
            ("hours", 1.0),
            ("h", 1.0),
            ("CPU-seconds", 1 / 3600),
            ("seconds", 1 / 3600),
            ("ms", 1 / 3_600_000),
        ),
    ),
    "MEMORY_GB_HOURS": UnitRule(
        "GB-hours", (("GB-hour", 1.0), ("GB-h", 1.0), ("GB-Hrs", 1.0), ("GB-seconds", 1 / 3600))
    ),
    "COMPUTE_HOURS": UnitRule(
        "CU-hours",
        (
            ("CU-hour", 1.0),
            ("hours", 1.0),
            ("h", 1.0),
            ("CU-seconds", 1 / 3600),
            ("seconds", 1 / 3600),
        ),
    ),
    "LATENCY_MS": UnitRule(
        "ms", (("milliseconds", 1.0), ("s", 1000.0), ("seconds", 1000.0), ("us", 1e-3))
    ),
    "COST_USD": UnitRule("USD", (("$", 1.0),)),
    "EVENTS": UnitRule(
        "events",
        (("event", 1.0), ("data points", 1.0), ("traces", 1.0), ("count", 1.0)),
    ),
    "BUILDS": UnitRule("builds", (("build", 1.0), ("deployments", 1.0), ("count", 1.0))),
}


def canonical_unit(metric_type: str) -> str:
    return UNITS[metric_type].canonical


def unit_factor(metric_type: str, unit: str) -> float:
    """The factor that converts a value in ``unit`` to the metric type's canonical unit.

    Matching ignores case and surrounding spaces. Raises UnitMismatch when the unit does
    not measure this metric type (say "GB" for REQUESTS).
    """
    rule = UNITS.get(metric_type)
    if rule is None:
        raise UnitMismatch(f"unknown metric type {metric_type!r}")
    wanted = unit.strip().casefold()
    if wanted == rule.canonical.casefold():
        return 1.0
    for alias, factor in rule.accepts:
        if alias.casefold() == wanted:
            return factor
    allowed = ", ".join([rule.canonical, *(a for a, _ in rule.accepts)])
    raise UnitMismatch(f"unit {unit!r} does not fit {metric_type} (allowed: {allowed})")


@dataclass(frozen=True)
class Aggregation:
    """How a metric type's windows add up to "usage this billing period".

    ``over_time``: "sum" for amounts that accumulate (requests, GB transferred, minutes),
    "last" for levels (storage held, latency). ``across_sources``: how the streams of one
    service combine (two KV databases: storage adds up; latency: the worst one counts).
    """

    over_time: str
    across_sources: str


_CUMULATIVE = Aggregation("sum", "sum")
AGGREGATION: dict[str, Aggregation] = {metric: _CUMULATIVE for metric in METRIC_TYPES} | {
    "STORAGE_MB": Aggregation("last", "sum"),
    "LATENCY_MS": Aggregation("last", "max"),
}
