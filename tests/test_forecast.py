"""Forecasts on synthetic series whose answer is known."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from jobs.recommend.forecast import DailySeries, backtest, choose_method, forecast


def rng() -> np.random.Generator:
    """A fresh generator per test, so results do not depend on test order."""
    return np.random.default_rng(7)


def days(first: date, n: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range(n))


def test_linear_storage_growth_breaches_on_the_known_day() -> None:
    first = date(2026, 10, 2)
    noise = rng().normal(0, 2, 30)
    values = tuple(100 + 10 * i + noise[i] for i in range(30))
    result = forecast(
        DailySeries(days(first, 30), values, cumulative=False),
        so_far=values[-1],
        as_of=datetime(2026, 11, 1),
        period_end=datetime(2026, 12, 1),
    )
    # A day's value is its last: 100 + 10 d = 600 at the end of day d = 50 (Nov 21).
    expected = datetime(2026, 11, 22)
    breach, breach_upper = result.breach_at(600), result.breach_at(600, upper=True)
    assert breach is not None
    assert abs(breach - expected) <= timedelta(days=1)
    assert breach_upper is not None and breach_upper <= breach
    assert result.mean == pytest.approx(100 + 10 * 59, rel=0.02)  # level on Nov 30


def test_steady_requests_cross_the_monthly_limit_on_the_known_day() -> None:
    history = DailySeries(days(date(2026, 10, 1), 41), (1000.0,) * 41, cumulative=True)
    result = forecast(
        history,
        so_far=10_000,
        as_of=datetime(2026, 11, 11),
        period_end=datetime(2026, 12, 1),
    )
    assert result.mean == pytest.approx(30_000)
    assert result.breach_at(25_000) == datetime(2026, 11, 26)
    assert result.breach_at(31_000) is None  # not before the counter resets
    assert result.breach_at(5_000) == datetime(2026, 11, 11)  # already over
    assert result.backtest is not None and result.backtest.mae == pytest.approx(0, abs=1e-9)


def weekly(n: int, first: date, seed: int = 7) -> tuple[float, ...]:
    noise = np.random.default_rng(seed).normal(0, 10, n)
    return tuple(
        (200.0 if (first + timedelta(days=i)).weekday() >= 5 else 1000.0) + noise[i]
        for i in range(n)
    )


def test_weekly_pattern_picks_the_seasonal_method() -> None:
    first = date(2026, 10, 5)  # a Monday
    series = DailySeries(days(first, 35), weekly(35, first), cumulative=True)
    method, chosen, candidates = choose_method(series)
    assert method == "seasonal"
    by_method = {b.method: b for b in candidates}
    assert by_method["seasonal"].mae < by_method["trend"].mae / 2
    assert chosen is not None and chosen.coverage > 0.5
    # The rest of November: known weekday/weekend counts.
    as_of = datetime(2026, 11, 9)
    result = forecast(series, so_far=0.0, as_of=as_of, period_end=datetime(2026, 12, 1))
    remaining = [as_of.date() + timedelta(days=i) for i in range(22)]
    truth = sum(200 if d.weekday() >= 5 else 1000 for d in remaining)
    assert result.mean == pytest.approx(truth, rel=0.03)


def test_the_80_percent_band_holds_the_truth_about_80_percent_of_the_time() -> None:
    first, as_of = date(2026, 10, 5), datetime(2026, 11, 9)
    truth = sum(
        200 if (as_of.date() + timedelta(days=i)).weekday() >= 5 else 1000 for i in range(22)
    )
    inside = [
        forecast(
            DailySeries(days(first, 35), weekly(35, first, seed), cumulative=True),
            so_far=0.0,
            as_of=as_of,
            period_end=datetime(2026, 12, 1),
        )
        for seed in range(60)
    ]
    coverage = np.mean([f.lower <= truth <= f.upper for f in inside])
    assert 0.65 <= coverage <= 0.95


def test_one_off_burst_does_not_raise_the_projection() -> None:
    values = [1000.0] * 40
    values[-3] = 20_000.0  # one very busy day, already counted in so_far
    history = DailySeries(days(date(2026, 10, 2), 40), tuple(values), cumulative=True)
    so_far = 10 * 1000 + 19_000
    result = forecast(
        history,
        so_far=so_far,
        as_of=datetime(2026, 11, 11),
        period_end=datetime(2026, 12, 1),
    )
    assert result.mean == pytest.approx(so_far + 20 * 1000, rel=0.02)
    assert result.breach_at(60_000) is None
    # The band's upper edge is wide after such a day, but stays below the limit too.
    assert result.breach_at(60_000, upper=True) is None


def test_short_history_has_no_backtest_but_still_forecasts() -> None:
    history = DailySeries(days(date(2026, 11, 1), 4), (10.0, 11.0, 12.0, 13.0), cumulative=True)
    result = forecast(
        history, so_far=46, as_of=datetime(2026, 11, 5), period_end=datetime(2026, 12, 1)
    )
    assert result.backtest is None and result.method == "trend"
    assert result.mean > 46


def test_backtest_reports_its_errors() -> None:
    series = DailySeries(days(date(2026, 10, 1), 30), tuple(float(i) for i in range(30)), False)
    result = backtest(series, "recent-median")
    assert result is not None
    assert result.origins > 5 and result.mae > 0 and result.mase is not None
    assert 0 <= result.coverage <= 1
    assert backtest(DailySeries(days(date(2026, 10, 1), 5), (1.0,) * 5, True), "trend") is None


def test_exceedance_probability_is_the_normal_tail() -> None:
    history = DailySeries(days(date(2026, 10, 1), 20), tuple(rng().normal(100, 5, 20)), True)
    result = forecast(
        history, so_far=0, as_of=datetime(2026, 11, 1), period_end=datetime(2026, 12, 1)
    )
    assert result.exceedance_probability(result.mean) == pytest.approx(0.5)
    assert result.exceedance_probability(result.upper) == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize("n", [3, 5, 14, 28])
def test_theil_sen_matches_scipy(n: int) -> None:
    from scipy import stats

    from jobs.recommend.forecast import _theil_sen

    y = np.arange(n) * 2.0 + np.random.default_rng(n).normal(0, 3, n)
    ours = _theil_sen(y)
    theirs = stats.theilslopes(y, np.arange(n, dtype=float), alpha=0.95)
    assert ours.slope == pytest.approx(theirs.slope)
    assert ours.intercept == pytest.approx(theirs.intercept)
    expected_sigma = (theirs.high_slope - theirs.low_slope) / (2 * 1.959964)
    assert ours.slope_sigma == pytest.approx(expected_sigma, rel=1e-3)
