"""Where a usage stands against its limit. Pure functions, no IO.

This module holds the plain threshold classification; the stateful safeguards
(consecutive collections, hysteresis, NO_DATA) build on it.
"""

from __future__ import annotations

import enum


class State(enum.StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    NO_DATA = "NO_DATA"


def utilisation(usage: float, limit: float) -> float:
    """Usage as a fraction of the limit (1.0 = at the limit)."""
    if limit <= 0:
        raise ValueError("a limit must be positive")
    return usage / limit


def classify(usage: float | None, limit: float, warning: float, critical: float) -> State:
    """OK below ``warning``, WARNING from it, CRITICAL from ``critical`` (fractions of limit)."""
    if usage is None:
        return State.NO_DATA
    share = utilisation(usage, limit)
    if share >= critical:
        return State.CRITICAL
    if share >= warning:
        return State.WARNING
    return State.OK
