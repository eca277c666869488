"""What sources produce: metric rows for InfrastructureMetric, and the time windows they cover.

Pure values, no IO. Times are naive UTC datetimes (as stored in ``TIMESTAMP(3)``).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.errors import PayloadError
from jobs.model import METRIC_TYPES, SERVICES, canonical_unit, unit_factor

DAY = timedelta(days=1)


@dataclass(frozen=True)
class MetricRow:
    """One window of one series from one source, its value in the canonical unit."""

    service: str
    metric_type: str
    value: float
    start: datetime  # "timestamp": inclusive
    end: datetime  # "windowEnd": exclusive
    source: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    project: str = ""  # the provider's project (FOCUS Tags.ProjectId); "" for none

    def __post_init__(self) -> None:
        # A programming error, not bad input: sources validate payloads before building rows.
        if self.service not in SERVICES or self.metric_type not in METRIC_TYPES:
            raise ValueError(f"unknown series {self.service}/{self.metric_type}")
        if not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"{self.key}: value {self.value!r} is not a finite amount >= 0")
        if self.end <= self.start or self.start.tzinfo or self.end.tzinfo:
            raise ValueError(f"{self.key}: bad window {self.start} .. {self.end}")

    @property
    def unit(self) -> str:
        return canonical_unit(self.metric_type)

    @property
    def series(self) -> tuple[str, str, str, str]:
        """What a window belongs to: service, metric type, source, project."""
        return (self.service, self.metric_type, self.source, self.project)

    @property
    def key(self) -> tuple[str, str, str, str, datetime]:
        """The natural key of InfrastructureMetric."""
        return (*self.series, self.start)


def conflicting_windows(rows: list[MetricRow]) -> str | None:
    """The first place where one batch holds a series' time twice: the same window twice,
    or overlapping windows (the same usage at two granularities or time-zone offsets)."""
    by_series: dict[tuple[str, str, str, str], list[MetricRow]] = {}
    for row in rows:
        by_series.setdefault(row.series, []).append(row)
    for (service, metric, source, project), windows in sorted(by_series.items()):
        windows.sort(key=lambda r: (r.start, r.end))
        for before, after in itertools.pairwise(windows):
            if after.start < before.end:
                what = f"{source} {service}/{metric}" + (f" of {project}" if project else "")
                if (after.start, after.end) == (before.start, before.end):
                    return f"the same window twice: {what} at {after.start:%Y-%m-%d %H:%M}"
                return (
                    f"overlapping windows: {what} {before.start:%Y-%m-%d %H:%M}.."
                    f"{before.end:%Y-%m-%d %H:%M} and {after.start:%Y-%m-%d %H:%M}.."
                    f"{after.end:%Y-%m-%d %H:%M} (the same usage at two granularities or "
                    "time-zone offsets?)"
                )
    return None


def converted(metric_type: str, quantity: float, unit: str) -> float:
    """``quantity`` in ``unit`` expressed in the metric type's canonical unit (UnitMismatch);
    PayloadError when it is no finite amount (a provider's absurd number)."""
    value = quantity * unit_factor(metric_type, unit)
    if not math.isfinite(value) or value < 0:
        raise PayloadError(f"{quantity!r:.40} {unit} is not an amount of {metric_type}")
    return value


def utc_naive(moment: datetime) -> datetime:
    """A datetime as naive UTC; naive input is taken to be UTC already."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def day_start(moment: datetime) -> datetime:
    return utc_naive(moment).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Purchase:
    """A FOCUS charge with ChargeCategory Purchase (a plan such as Vercel's "Pro")."""

    provider: str
    service_name: str
    start: datetime
    end: datetime
    billed_cost: float
    effective_cost: float


@dataclass
class Batch:
    """Everything one source collected in one run, written in one transaction or not at all.

    ``complete_through`` is where the watermark may move: the end of the last window that
    will not change any more. ``windows`` counts the windows covered (for the summary);
    ``unmapped`` counts items the source could not map (service names, units), by label.
    """

    rows: list[MetricRow] = field(default_factory=list)
    windows: int = 0
    complete_through: datetime | None = None
    unmapped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)
