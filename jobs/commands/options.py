"""Option types shared by the CLI commands: every value is checked when it arrives, so a
value that cannot be computed with (NaN, infinity, a date at the calendar's edge, text that
is not text) is refused in one line, never met later as a crash."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.paths import DEFAULT_LIMITS_FILE

DEFAULT_SCHEMA = "public"

# --now: far enough from the calendar's edges that every date the jobs derive from it
# (lookback windows, billing periods, expiry dates) is a valid timestamp.
EARLIEST_NOW = datetime(2000, 1, 1)
LATEST_NOW = datetime(2100, 1, 1)
# The longest span a day-counting option may name (ten years and a leap day or two).
MAX_DAYS = 3660


def parse_now(text: str | None) -> datetime:
    """``--now`` (ISO 8601, UTC when no offset) or the clock; naive UTC like the tables."""
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(text)
        moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError):
        raise ConfigError(
            f"--now {text!r} is not an ISO 8601 time (e.g. 2026-11-25T10:00)"
        ) from None
    if not EARLIEST_NOW <= moment < LATEST_NOW:
        raise ConfigError(
            f"--now {text!r} is out of range: give a time from {EARLIEST_NOW:%Y-%m-%d} "
            f"to before {LATEST_NOW:%Y-%m-%d}"
        )
    return moment


def number(
    kind: type, low: float, high: float, *, low_allowed: bool = False
) -> Callable[[str], Any]:
    """A finite ``kind`` (int or float) above ``low`` (or at it, with ``low_allowed``) and
    at most ``high``."""
    noun = "a whole number" if kind is int else "a number"
    bounds = f"from {low:g}" if low_allowed else f"greater than {low:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        above = value >= low if low_allowed else value > low
        if not (math.isfinite(value) and above and value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} must be {bounds} and at most {high:g}")
        return value

    return parse


def text(longest: int = 500) -> Callable[[str], str]:
    """Free text stored and shown to people (``--by``, ``--note``, ids): valid Unicode (no
    undecodable bytes), no control characters, one line, at most ``longest`` characters."""

    def parse(value: str) -> str:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise argparse.ArgumentTypeError("holds bytes that are not valid UTF-8")
        if not value.isprintable():
            raise argparse.ArgumentTypeError("holds a line break or another control character")
        if not value.strip():
            raise argparse.ArgumentTypeError("is empty")
        if len(value) > longest:
            raise argparse.ArgumentTypeError(f"is longer than {longest} characters")
        return value

    return parse


def hours(span: timedelta) -> float:
    """A default duration as an option's number of hours."""
    return span.total_seconds() / 3600


def days(span: timedelta) -> float:
    """A default duration as an option's number of days."""
    return span.total_seconds() / 86400


def lookback_days(parser: argparse.ArgumentParser, default: timedelta) -> None:
    """``--lookback-days``, one meaning for recommend, backtest and report."""
    parser.add_argument(
        "--lookback-days",
        type=number(int, 0, MAX_DAYS),
        default=round(days(default)),
        metavar="D",
        help=f"days of history a forecast may use (default {days(default):g})",
    )


# Options several commands share: one name, one meaning, one help text.
SHARED: dict[str, dict[str, Any]] = {
    "--now": {
        "metavar": "ISO",
        "help": "as of this time (ISO 8601, UTC unless it has an offset; default: the clock)",
    },
    "--limits": {
        "type": Path,
        "default": DEFAULT_LIMITS_FILE,
        "metavar": "FILE",
        "help": "the plan limits file (default: limits.yaml in the project)",
    },
    "--schema": {
        "default": DEFAULT_SCHEMA,
        "help": f"the schema that holds the monitoring objects (default: {DEFAULT_SCHEMA})",
    },
}


def shared(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add the shared options ``names`` (keys of SHARED) to ``parser``."""
    for name in names:
        parser.add_argument(name, **SHARED[name])
