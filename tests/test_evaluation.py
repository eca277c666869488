"""Threshold safeguards on synthetic series with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from jobs.recommend.evaluation import Point, Rules, State, Thresholds, evaluate_series

T = Thresholds(warning=0.75, critical=0.9, resolve=0.7)
RULES = Rules(for_points=2, stale_after=timedelta(hours=2))
START = datetime(2026, 11, 1)


def series(*shares: float, step: timedelta = timedelta(minutes=15)) -> list[Point]:
    return [Point(START + i * step, share * 1000) for i, share in enumerate(shares)]


def evaluate(points: list[Point], now: datetime | None = None) -> State:
    now = now or points[-1].at + timedelta(minutes=1)
    return evaluate_series(points, 1000, T, RULES, now).state


def test_a_state_is_raised_only_after_holding_for_the_configured_points() -> None:
    assert evaluate(series(0.5, 0.8)) is State.OK  # pending
    assert evaluate(series(0.5, 0.8, 0.8)) is State.WARNING
    assert evaluate(series(0.5, 0.8, 0.95, 0.95)) is State.CRITICAL


def test_pending_state_is_reported() -> None:
    result = evaluate_series(series(0.5, 0.8), 1000, T, RULES, START + timedelta(minutes=20))
    assert (result.state, result.pending) == (State.OK, State.WARNING)
    assert "WARNING seen 1 of 2 times" in result.reason


def test_one_off_burst_raises_nothing() -> None:
    assert evaluate(series(0.3, 0.3, 0.99, 0.3, 0.3)) is State.OK


def test_oscillation_around_the_warning_threshold_does_not_flap() -> None:
    # Never twice in a row above warning: never raised.
    assert evaluate(series(*[0.74, 0.76] * 10)) is State.OK
    # Once raised, dipping between resolve and warning keeps it raised.
    raised = [0.8, 0.8]
    wobble = [0.72, 0.78] * 10
    states = [evaluate(series(*raised, *wobble[:i])) for i in range(1, len(wobble) + 1)]
    assert set(states) == {State.WARNING}


def test_clears_only_below_the_resolve_threshold_for_the_configured_points() -> None:
    assert evaluate(series(0.8, 0.8, 0.71, 0.71, 0.71)) is State.WARNING
    assert evaluate(series(0.8, 0.8, 0.69)) is State.WARNING
    assert evaluate(series(0.8, 0.8, 0.69, 0.69)) is State.OK


def test_critical_steps_down_with_the_same_margin() -> None:
    # margin = warning - resolve = 0.05: CRITICAL holds down to 0.85.
    assert evaluate(series(0.95, 0.95, 0.86, 0.86)) is State.CRITICAL
    assert evaluate(series(0.95, 0.95, 0.84, 0.84)) is State.WARNING


def test_a_series_that_stopped_reporting_is_no_data_never_ok() -> None:
    points = series(0.1, 0.1, 0.1)
    late = points[-1].at + timedelta(hours=3)
    result = evaluate_series(points, 1000, T, RULES, late)
    assert result.state is State.NO_DATA
    assert result.reason.startswith("no data since 2026-11-01 00:30 UTC")
    assert evaluate_series([], 1000, T, RULES, late).state is State.NO_DATA


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="0 < resolve <= warning < critical <= 1"):
        Thresholds(warning=0.9, critical=0.8, resolve=0.7)
