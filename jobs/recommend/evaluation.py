"""Where a usage stands against its limit. Pure functions, no IO.

``classify`` is the plain threshold test. ``evaluate_series`` adds the safeguards that
keep alerts trustworthy, as Prometheus alerting rules do:

- a new state must hold for ``for_points`` consecutive collections before it is raised
  (``for:``), so one odd sample does not page anyone;
- a raised state clears only once usage falls below the *resolve* threshold, and
  CRITICAL steps down only below ``critical - (warning - resolve)`` (hysteresis), so a
  series hovering at a threshold does not flap;
- a series whose newest point is older than ``stale_after`` is NO_DATA, never OK.

The state is recomputed by replaying the period's points, so there is nothing to store
between runs and a re-run gives the same answer.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple


class State(enum.StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    NO_DATA = "NO_DATA"


SEVERITY = {State.NO_DATA: 0, State.OK: 0, State.WARNING: 1, State.CRITICAL: 2}


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


@dataclass(frozen=True)
class Thresholds:
    warning: float
    critical: float
    resolve: float  # below warning: where a raised WARNING clears

    def __post_init__(self) -> None:
        if not 0 < self.resolve <= self.warning < self.critical <= 1:
            raise ValueError(
                "thresholds must satisfy 0 < resolve <= warning < critical <= 1, got "
                f"resolve={self.resolve} warning={self.warning} critical={self.critical}"
            )


@dataclass(frozen=True)
class Rules:
    for_points: int = 2
    stale_after: timedelta = timedelta(hours=36)


class Point(NamedTuple):
    """One evaluation point; a plain (at, value) tuple works as well."""

    at: datetime
    value: float


@dataclass(frozen=True)
class Evaluation:
    state: State
    since: datetime | None  # when the current state was raised
    value: float | None  # newest usage
    utilisation: float | None
    at: datetime | None  # time of the newest point
    pending: State | None  # a different state seen but not yet held long enough
    reason: str


def level(share: float, thresholds: Thresholds, raised: State) -> State:
    """The state one point asks for, given the state currently raised (hysteresis)."""
    margin = thresholds.warning - thresholds.resolve
    if share >= thresholds.critical:
        return State.CRITICAL
    if raised is State.CRITICAL and share >= thresholds.critical - margin:
        return State.CRITICAL
    if share >= thresholds.warning:
        return State.WARNING
    if raised in (State.WARNING, State.CRITICAL) and share >= thresholds.resolve:
        return State.WARNING
    return State.OK


def evaluate_series(
    points: Sequence[tuple[datetime, float]],
    limit: float,
    thresholds: Thresholds,
    rules: Rules,
    now: datetime,
) -> Evaluation:
    """Replay ``points`` (usage so far, oldest first) and return the state at ``now``."""
    if not points:
        return Evaluation(State.NO_DATA, None, None, None, None, None, "no data this period")
    ordered = sorted(points)
    utilisation(1.0, limit)  # rejects a non-positive limit
    raised, since = State.OK, ordered[0][0]
    candidate: State | None = None
    candidate_since = ordered[0][0]
    held = 0
    for at, value in ordered:
        wanted = level(value / limit, thresholds, raised)
        if wanted is raised:
            candidate, held = None, 0
            continue
        if wanted is candidate:
            held += 1
        else:
            candidate, candidate_since, held = wanted, at, 1
        if held >= rules.for_points:
            raised, since = wanted, candidate_since
            candidate, held = None, 0
    newest_at, newest_value = ordered[-1]
    share = newest_value / limit
    if now - newest_at > rules.stale_after:
        return Evaluation(
            State.NO_DATA,
            newest_at,
            newest_value,
            share,
            newest_at,
            None,
            f"no data since {newest_at:%Y-%m-%d %H:%M} UTC (stale after {rules.stale_after})",
        )
    reason = f"{share:.0%} of the limit"
    if candidate is not None:
        reason += f"; {candidate} seen {held} of {rules.for_points} times"
    return Evaluation(raised, since, newest_value, share, newest_at, candidate, reason)
