"""Option types shared by the CLI commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.paths import DEFAULT_LIMITS_FILE

DEFAULT_SCHEMA = "public"


def parse_now(text: str | None) -> datetime:
    """``--now`` (ISO 8601, UTC when no offset) or the clock; naive UTC like the tables."""
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not an ISO 8601 time (e.g. 2026-11-25T10:00)"
        ) from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
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
        type=positive(int),
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
