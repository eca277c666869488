"""Forecasts on synthetic series whose answer is known."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from jobs.recommend.forecast import (
    NOMINAL,
    Z80,
    Band,
    DailySeries,
    choose_method,
    daily_grid,
    forecast,
)

NOVEMBER = (datetime(2026, 11, 1), datetime(2026, 12, 1))


def rng() -> np.random.Generator:
    """A fresh generator per test, so results do not depend on test order."""
    return np.random.default_rng(7)


def days(first: date, n: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range(n))


def november(series: DailySeries, so_far: float, as_of: datetime):  # type: ignore[no-untyped-def]
    start, end = NOVEMBER
    return forecast(series, so_far=so_far, as_of=as_of, period_start=start, period_end=end)


def test_linear_storage_growth_breaches_on_the_known_day() -> None:
    first = date(2026, 10, 2)
    noise = rng().normal(0, 2, 30)
    values = tuple(100 + 10 * i + noise[i] for i in range(30))
    result = november(
        DailySeries(days(first, 30), values, False), values[-1], datetime(2026, 11, 1)
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
    result = november(history, 10_000, datetime(2026, 11, 11))
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


def test_weekly_pattern_picks_a_weekly_method_and_gets_the_total_right() -> None:
    first = date(2026, 9, 7)  # a Monday
    series = DailySeries(days(first, 63), weekly(63, first), cumulative=True)
    method, chosen, candidates = choose_method(series, elapsed=8, horizon=22)
    assert method in ("seasonal", "seasonal-naive", "damped")
    by_method = {b.method: b for b in candidates}
    assert by_method[method].mae < by_method["trend"].mae / 2
    assert chosen is not None and chosen.relative_mae is not None and chosen.relative_mae < 0.5
    # The rest of November: known weekday/weekend counts.
    as_of = datetime(2026, 11, 9)
    result = november(series, sum(weekly(63, first)[-8:]), as_of)
    remaining = [as_of.date() + timedelta(days=i) for i in range(22)]
    truth = sum(200 if d.weekday() >= 5 else 1000 for d in remaining)
    assert result.mean - result.so_far == pytest.approx(truth, rel=0.03)


# Calibration. Each seed is an independent series and one forecast of its period total, so
# the number of totals inside the band is Binomial(SEEDS, p). The test accepts p = 80 % only
# inside the central 99.9 % of that distribution: a band whose true coverage is 70 % or 90 %
# passes with a probability below 1 %, and the control below (the band the noise would give
# if days were independent) fails it.
SEEDS = 300
LOW, HIGH = stats.binom.ppf([0.0005, 0.9995], SEEDS, NOMINAL) / SEEDS


def ar1_series(seed: int, n: int) -> np.ndarray:
    """A weekly rhythm with AR(1) day noise (phi 0.6, innovations sd 60): busy days come
    in runs, as in real traffic, so sums of days vary more than independent noise says."""
    generator = np.random.default_rng(seed)
    noise = np.zeros(n)
    shocks = generator.normal(0, 60, n)
    for t in range(1, n):
        noise[t] = 0.6 * noise[t - 1] + shocks[t]
    weekday = np.array([800.0, 1000, 1000, 1000, 1000, 400, 300])
    first = date(2026, 8, 2)
    return np.array([weekday[(first + timedelta(days=i)).weekday()] for i in range(n)]) + noise


def calibration_case(seed: int) -> tuple[DailySeries, float, float, datetime]:
    first, n_history, n_total = date(2026, 8, 2), 99, 121  # history to Nov 8, truth to Nov 30
    values = ar1_series(seed, n_total)
    series = DailySeries(days(first, n_history), tuple(values[:n_history]), True)
    so_far = float(values[91:n_history].sum())  # Nov 1..8
    truth = float(values[91:n_total].sum())
    return series, so_far, truth, datetime(2026, 11, 9)


def test_the_80_percent_band_holds_80_percent_of_period_totals_over_many_seeds() -> None:
    inside, poor = [], []
    for seed in range(SEEDS):
        series, so_far, truth, as_of = calibration_case(seed)
        result = november(series, so_far, as_of)
        assert result.band.calibrated
        inside.append(result.lower <= truth <= result.upper)
        poor.append(result.band.poor)
    assert LOW <= np.mean(inside) <= HIGH
    # A band that holds is rarely called poor (the label's test has a 5 % false-alarm rate).
    assert np.mean(poor) <= 0.1


def test_control_an_uncalibrated_band_fails_the_same_check() -> None:
    """The band a forecaster draws from the day-to-day noise alone (days independent):
    same point forecast, same test, and it does not pass."""
    inside = []
    for seed in range(SEEDS):
        series, so_far, truth, as_of = calibration_case(seed)
        result = november(series, so_far, as_of)
        history = np.asarray(series.values)
        weekday_sd = np.std(history[7:] - history[:-7], ddof=1) / np.sqrt(2)
        half = Z80 * weekday_sd * np.sqrt(22)
        inside.append(abs(truth - result.mean) <= half)
    assert not LOW <= np.mean(inside) <= HIGH


def test_the_run_rate_is_chosen_when_it_is_best() -> None:
    """A flat series with heavy independent noise: averaging every elapsed day (the run
    rate) beats every method that looks at fewer days or fits a slope."""
    values = tuple(np.random.default_rng(3).normal(1000, 300, 90))
    series = DailySeries(days(date(2026, 8, 28), 90), values, True)
    method, chosen, candidates = choose_method(series, elapsed=25, horizon=5)
    assert method == "run-rate"
    assert chosen is not None and chosen.relative_mae == pytest.approx(1.0)
    assert all(chosen.mae <= b.mae * 1.05 for b in candidates)


@pytest.mark.parametrize("seed", range(12))
def test_the_chosen_method_is_never_worse_than_the_run_rate_on_its_history(seed: int) -> None:
    generator = np.random.default_rng(seed)
    n = 80
    t = np.arange(n)
    shapes = [
        1000 + 5 * t,
        np.where(t > 50, 2000.0, 1000.0),
        1000 + 400 * np.sin(2 * np.pi * t / 7),
        np.where(generator.random(n) < 0.05, 8000.0, 1000.0),
    ]
    values = shapes[seed % 4] + generator.normal(0, 100, n)
    series = DailySeries(days(date(2026, 8, 1), n), tuple(values), True)
    _, chosen, candidates = choose_method(series, elapsed=10, horizon=20)
    run_rate = next(b for b in candidates if b.method == "run-rate")
    assert chosen is not None and chosen.mae <= run_rate.mae + 1e-9


def test_little_history_gets_a_wider_band_labelled_as_such() -> None:
    def band(n_history: int) -> tuple[float, Band]:
        values = ar1_series(11, 121)
        series = DailySeries(
            days(date(2026, 11, 9) - timedelta(days=n_history), n_history),
            tuple(values[-n_history:]),
            True,
        )
        result = november(series, float(values[-8:].sum()), datetime(2026, 11, 9))
        return result.upper - result.lower, result.band

    long_width, long_band = band(99)
    short_width, short_band = band(25)
    assert long_band.calibrated and not short_band.calibrated
    assert short_width > long_width
    assert "widened, not calibrated" in short_band.text()
    assert "80% band, " in long_band.text() and "coverage over" in long_band.text()


def test_no_backtest_at_all_still_forecasts_with_the_run_rate_and_a_wide_band() -> None:
    history = DailySeries(days(date(2026, 11, 1), 4), (10.0, 11.0, 12.0, 13.0), cumulative=True)
    result = november(history, 46, datetime(2026, 11, 5))
    assert result.backtest is None and result.method == "run-rate"
    assert result.mean == pytest.approx(46 / 4 * 30)
    assert not result.band.calibrated and result.band.calibration == 0
    assert result.upper - result.lower >= 2 * 0.25 * (result.mean - 46) - 1e-9


def test_a_band_that_did_not_hold_is_labelled_poor() -> None:
    # One day ahead: 24 backtests with 24 separate outcomes.
    poor = Band(calibrated=True, calibration=40, checks=24, coverage=12 / 24, horizon=1)
    fine = Band(calibrated=True, calibration=40, checks=24, coverage=19 / 24, horizon=1)
    assert poor.poor and not fine.poor
    # 20 days ahead, 24 backtests on consecutive days share most of their days: about two
    # separate outcomes, so half of them missing is no evidence; all of them missing is.
    overlapping = dataclasses.replace(poor, horizon=20)
    assert not overlapping.poor
    assert dataclasses.replace(overlapping, coverage=0.0).poor
    assert poor.text() == "80% band POOR: 50% coverage over 24 backtests"
    assert fine.text() == "80% band, 79% coverage over 24 backtests"
    assert poor.to_json()["poor"] is True and poor.to_json()["text"] == poor.text()
    assert (poor.short(), fine.short()) == ("80% band POOR: 50% coverage", "80% band: 79% coverage")


def test_one_off_burst_does_not_raise_the_projection() -> None:
    values = [1000.0] * 40
    values[-3] = 20_000.0  # one very busy day, already counted in so_far
    history = DailySeries(days(date(2026, 10, 2), 40), tuple(values), cumulative=True)
    so_far = 10 * 1000 + 19_000
    result = november(history, so_far, datetime(2026, 11, 11))
    assert result.mean == pytest.approx(so_far + 20 * 1000, rel=0.02)
    assert result.breach_at(60_000) is None


def test_backtest_reports_its_errors() -> None:
    series = DailySeries(days(date(2026, 9, 1), 60), tuple(float(i) for i in range(60)), False)
    method, chosen, candidates = choose_method(series, elapsed=0, horizon=10)
    assert method == "trend"  # exact on a straight line
    assert chosen is not None and chosen.mae == pytest.approx(0, abs=1e-9)
    latest = next(b for b in candidates if b.method == "latest")
    assert latest.origins == chosen.origins > 20 and latest.mae == pytest.approx(10)
    assert latest.mape is not None and latest.mape > 0
    assert chosen.checks > 0 and chosen.coverage == 1.0
    short = DailySeries(days(date(2026, 10, 1), 5), (1.0,) * 5, True)
    assert choose_method(short, elapsed=3, horizon=20)[1] is None


def test_gaps_count_as_zero_for_amounts_and_hold_the_level_for_levels() -> None:
    gappy = (date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 5))
    assert daily_grid(DailySeries(gappy, (1.0, 2.0, 3.0), True)).tolist() == [1, 2, 0, 0, 3]
    assert daily_grid(DailySeries(gappy, (1.0, 2.0, 3.0), False)).tolist() == [1, 2, 2, 2, 3]


def test_exceedance_probability_follows_the_band() -> None:
    history = DailySeries(days(date(2026, 8, 1), 92), tuple(rng().normal(100, 5, 92)), True)
    result = november(history, 0.0, datetime(2026, 11, 1))
    assert result.exceedance_probability(result.mean) == pytest.approx(0.5)
    assert result.exceedance_probability(result.upper) == pytest.approx(0.1, abs=1e-6)
    assert result.exceedance_probability(result.lower) == pytest.approx(0.9, abs=1e-6)


@pytest.mark.parametrize("n", [3, 5, 14, 28])
def test_theil_sen_matches_scipy(n: int) -> None:
    from jobs.recommend.forecast import _theil_sen

    rows = np.arange(n) * 2.0 + np.random.default_rng(n).normal(0, 3, (4, n))
    intercepts, slopes = _theil_sen(rows)
    for row, intercept, slope in zip(rows, intercepts, slopes, strict=True):
        theirs = stats.theilslopes(row, np.arange(n, dtype=float))
        assert slope == pytest.approx(theirs.slope)
        assert intercept == pytest.approx(theirs.intercept)
