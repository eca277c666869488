"""The interface every API source implements, and the pieces they share.

A source is built from its configuration and an ``Api``; ``collect(since, now)`` fetches
everything from ``since`` up to ``now`` and returns one ``Batch`` (pure parsing inside,
IO only through the Api). It raises ``SourceError`` subclasses, never anything else.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from jobs.collect.records import DAY, Batch, day_start, utc_naive
from jobs.errors import PayloadError


class Source(Protocol):
    @property
    def name(self) -> str:
        """The watermark key and the summary label."""
        ...

    async def collect(self, since: datetime, now: datetime) -> Batch: ...


@dataclass(frozen=True)
class DailyPlan:
    """Daily windows from the day of ``since`` through today (partial, re-collected each
    run); ``complete_through`` is the end of the last day older than the settle time."""

    start: datetime
    end: datetime
    complete_through: datetime

    @classmethod
    def make(cls, since: datetime, now: datetime, settle: timedelta) -> DailyPlan:
        start = day_start(since)
        end = day_start(now) + DAY
        return cls(start, end, max(start, day_start(now - settle)))

    @property
    def windows(self) -> int:
        return (self.end - self.start) // DAY


def iso(moment: datetime) -> str:
    return utc_naive(moment).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def epoch_ms(moment: datetime) -> int:
    return int((utc_naive(moment) - datetime(1970, 1, 1)).total_seconds() * 1000)


def from_epoch_ms(value: float, where: str = "epoch milliseconds") -> datetime:
    try:
        return datetime(1970, 1, 1) + timedelta(milliseconds=value)
    except (OverflowError, ValueError):
        raise PayloadError(f"{where}: {value!r:.40} is not a time in epoch milliseconds") from None


def required(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``obj[name]``, which must exist and be of ``kind`` (numbers: int or float, not bool)."""
    if name not in obj or obj[name] is None:
        raise PayloadError(f"{where}: '{name}' is missing")
    return optional(obj, name, kind, where)


def optional(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(name)
    if value is None:
        return None
    numeric = kind in (int, float) or kind == (int, float)
    if (numeric and isinstance(value, bool)) or not isinstance(value, kind):
        wanted = "a number" if numeric else getattr(kind, "__name__", "of another type")
        raise PayloadError(f"{where}: '{name}' should be {wanted}, got {value!r:.60}")
    if numeric and not _finite(value):
        raise PayloadError(f"{where}: '{name}' should be a finite number, got {value!r:.60}")
    return value


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    return value


_SERIES_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?"
)


def series_time(value: object, where: str) -> datetime:
    """Times such as ``2025-08-31 15:12:52.799480932 +0000 UTC`` (Go's format) or ISO 8601."""
    if isinstance(value, str):
        match = _SERIES_TIME.match(value.strip())
        if match:
            offset = match[3] or "Z"
            with contextlib.suppress(ValueError):  # 2026-13-45, or an offset of +99:00
                return utc_naive(datetime.fromisoformat(f"{match[1]}T{match[2]}{offset}"))
    raise PayloadError(f"{where}: {value!r:.60} is not a time")
