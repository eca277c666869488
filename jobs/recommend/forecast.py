"""Forecast a series to the end of its billing period, with a band, and measure how well
each method would have done on the series' own history. Pure functions, no IO.

Input is one value per day: the day's amount for metrics that accumulate (requests, GB
transferred), the day's last value for levels (storage). Methods:

- ``trend``: Theil-Sen line over the recent window. The median of pairwise slopes ignores
  one-off bursts, so a single busy day does not raise the projection.
- ``seasonal``: the same robust trend plus a day-of-week profile (medians of the
  detrended values per weekday); needs at least two weeks.
- ``recent-median``: the median of the last week, flat. The baseline that wins when the
  series has no usable trend.

A rolling-origin backtest fits each method on the history up to an origin, forecasts the
next days, and scores the error against what happened; the method with the smallest mean
absolute error is chosen per series. Its MAE, MASE (MAE over the mean absolute day-to-day
change), MAPE and the share of actual values inside the 80 % band are returned with the
forecast, so every forecast carries its own measured accuracy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from scipy import stats

Z80 = float(stats.norm.ppf(0.9))  # two-sided 80 % band
Z95 = float(stats.norm.ppf(0.975))
TREND_WINDOW = 28  # days a trend is fitted on
MIN_SEASONAL_DAYS = 14
MIN_TRAINING_DAYS = 7  # the first backtest origin
BACKTEST_HORIZON = 7
MAX_ORIGINS = 20
BREACH_HORIZON_DAYS = 90


@dataclass(frozen=True)
class DailySeries:
    days: tuple[date, ...]  # consecutive or not, ascending
    values: tuple[float, ...]
    cumulative: bool  # True: values are daily amounts that add up over the period

    def __post_init__(self) -> None:
        if len(self.days) != len(self.values):
            raise ValueError("days and values differ in length")


@dataclass(frozen=True)
class Fit:
    """A method fitted on history: predict(k) is the value k days after the last day."""

    method: str
    predict: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    sigma: float  # robust scale of one day's error around the fit (independent per day)
    slope_sigma: float = 0.0  # standard error of the fitted daily slope
    # The slope is pinned at the window's centre: its error grows from there, not from today.
    slope_offset: float = 0.0  # days from the window's centre to its last day
    level_sigma: float = 0.0  # standard error of the fitted level at the centre (every day)
    # Standard error of each weekday's profile value (shared by every such weekday).
    weekday_sigma: tuple[float, ...] = (0.0,) * 7
    last_weekday: int = 0

    def day_std(self, steps: np.ndarray) -> np.ndarray:
        """Standard deviation of one day's value ``steps`` days ahead."""
        profile = np.asarray(self.weekday_sigma)[self._weekdays(steps)]
        drift = self.slope_sigma * (self.slope_offset + steps)
        return np.sqrt(self.sigma**2 + drift**2 + self.level_sigma**2 + profile**2)

    def total_std(self, steps: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Standard deviation of the running total of weighted daily values.

        Day noise adds in quadrature; slope, level and weekday errors repeat on every
        day they touch, so they add linearly before squaring.
        """
        variance = self.sigma**2 * np.cumsum(weights**2)
        variance += (self.slope_sigma * np.cumsum(weights * (self.slope_offset + steps))) ** 2
        variance += (self.level_sigma * np.cumsum(weights)) ** 2
        weekdays = self._weekdays(steps)
        for weekday, error in enumerate(self.weekday_sigma):
            if error:
                variance += (error * np.cumsum(weights * (weekdays == weekday))) ** 2
        return np.sqrt(variance)

    def _weekdays(self, steps: np.ndarray) -> np.ndarray:
        return (self.last_weekday + steps.astype(int)) % 7


def _median(values: np.ndarray) -> float:
    """np.median without its per-call overhead (these arrays hold a few dozen values)."""
    ordered = np.sort(values)
    n = ordered.size
    return float(ordered[(n - 1) // 2] + ordered[n // 2]) / 2


def _median_error(sigma: float, n: int) -> float:
    """Standard error of a median of ``n`` values with scale ``sigma``."""
    return 1.2533 * sigma / math.sqrt(n) if n else 0.0


def _robust_sigma(residuals: np.ndarray, parameters: int) -> float:
    """MAD-based scale, widened for the parameters fitted on the same residuals."""
    n = residuals.size
    if n <= parameters:
        return 0.0
    # No fallback to the standard deviation when the MAD is 0: that would let a single
    # burst in an otherwise steady series blow the band up, which is what MAD avoids.
    mad = _median(np.abs(residuals - _median(residuals)))
    return 1.4826 * mad * math.sqrt(n / (n - parameters))


@dataclass(frozen=True)
class _Line:
    intercept: float
    slope: float
    slope_sigma: float
    residuals: np.ndarray


@functools.cache
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def _theil_sen(y: np.ndarray) -> _Line:
    """Theil-Sen line over t = 0..n-1 with its slope's standard error and the residuals.

    The estimator and its confidence interval are those of scipy.stats.theilslopes
    (median of pairwise slopes, intercept median(y) - slope * median(t), Sen's interval
    from Kendall's tau without ties); computed here with numpy because scipy's per-call
    overhead dominates when a backtest fits thousands of four-week windows.
    """
    n = y.size
    t = np.arange(n, dtype=float)
    if n < 3:
        level = _median(y) if n else 0.0
        return _Line(level, 0.0, 0.0, y - level)
    i, j = _pairs(n)
    slopes = np.sort((y[j] - y[i]) / (j - i))
    slope = float(slopes[(slopes.size - 1) // 2] + slopes[slopes.size // 2]) / 2
    intercept = _median(y) - slope * (n - 1) / 2
    spread = Z95 * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    upper = min(round((slopes.size + spread) / 2), slopes.size - 1)
    lower = max(round((slopes.size - spread) / 2) - 1, 0)
    slope_sigma = float(slopes[upper] - slopes[lower]) / (2 * Z95)
    return _Line(intercept, slope, slope_sigma, y - (intercept + slope * t))


def fit_trend(values: np.ndarray, _weekdays: np.ndarray) -> Fit:
    window = values[-TREND_WINDOW:]
    line = _theil_sen(window)
    last = window.size - 1

    def predict(k: np.ndarray) -> np.ndarray:
        return np.maximum(line.intercept + line.slope * (last + k), 0.0)

    sigma = _robust_sigma(line.residuals, 2)
    return Fit(
        "trend",
        predict,
        sigma,
        line.slope_sigma,
        slope_offset=last / 2,
        level_sigma=_median_error(sigma, window.size),
    )


def _weekday_profile(values: np.ndarray, weekdays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median per weekday minus their mean (0 for a weekday without data), and the counts."""
    counts = np.bincount(weekdays, minlength=7)
    # One (weekday x occurrence) table, so all seven medians are one numpy call.
    table = np.full((7, int(counts.max())), np.nan)
    order = np.argsort(weekdays, kind="stable")
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    table[weekdays[order], np.arange(values.size) - starts] = values[order]
    # Row medians of the NaN-padded table: NaN sorts last, so each row's values come first.
    ordered = np.sort(table, axis=1)
    rows = np.arange(7)
    low = ordered[rows, np.maximum(counts - 1, 0) // 2]
    high = ordered[rows, counts // 2]
    present = counts > 0
    medians = np.where(present, (low + high) / 2, 0.0)
    profile = np.where(present, medians - medians[present].mean(), 0.0)
    return profile, counts


def fit_seasonal(values: np.ndarray, weekdays: np.ndarray) -> Fit:
    """Weekly profile (median per weekday), then a robust trend on what the profile leaves."""
    window = values[-max(TREND_WINDOW, MIN_SEASONAL_DAYS) :]
    days = weekdays[-window.size :]
    profile, counts = _weekday_profile(window, days)
    line = _theil_sen(window - profile[days])
    last, last_weekday = window.size - 1, int(days[-1])

    def predict(k: np.ndarray) -> np.ndarray:
        weekday = (last_weekday + k.astype(int)) % 7
        return np.maximum(line.intercept + line.slope * (last + k) + profile[weekday], 0.0)

    # Residuals around medians of a few values each understate the noise; week-over-week
    # differences do not (they cancel the profile and leave twice the noise variance).
    weekly_changes = window[7:] - window[:-7]
    sigma = _robust_sigma(weekly_changes, 1) / math.sqrt(2)
    return Fit(
        "seasonal",
        predict,
        sigma,
        line.slope_sigma,
        slope_offset=last / 2,
        level_sigma=_median_error(sigma, window.size),
        weekday_sigma=tuple(_median_error(sigma, int(c)) for c in counts),
        last_weekday=last_weekday,
    )


def fit_recent_median(values: np.ndarray, _weekdays: np.ndarray) -> Fit:
    recent = values[-7:]
    level = _median(recent)

    def predict(k: np.ndarray) -> np.ndarray:
        return np.full(k.shape, level)

    sigma = _robust_sigma(recent - level, 1)
    return Fit("recent-median", predict, sigma, level_sigma=_median_error(sigma, recent.size))


METHODS: dict[str, Callable[[np.ndarray, np.ndarray], Fit]] = {
    "trend": fit_trend,
    "seasonal": fit_seasonal,
    "recent-median": fit_recent_median,
}


def candidate_methods(n_days: int) -> list[str]:
    """Simplest first: a more complex method must earn its place."""
    methods = ["recent-median", "trend"]
    if n_days >= MIN_SEASONAL_DAYS + 2:
        methods.append("seasonal")
    return methods


@dataclass(frozen=True)
class Backtest:
    method: str
    origins: int
    mae: float
    mase: float | None
    mape: float | None  # percent, over days with a non-zero actual
    coverage: float  # share of actual days inside the 80 % band

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "origins": self.origins,
            "mae": self.mae,
            "mase": self.mase,
            "mape": self.mape,
            "coverage": self.coverage,
        }


def backtest(
    series: DailySeries,
    method: str,
    horizon: int = BACKTEST_HORIZON,
    first_origin: int | None = None,
) -> Backtest | None:
    """Rolling-origin backtest of ``method``; None when the history is too short.

    The band checked is the one ``forecast`` draws for one day's value.
    """
    values = np.asarray(series.values, dtype=float)
    weekdays = np.array([d.weekday() for d in series.days])
    n = values.size
    first = first_origin or (MIN_SEASONAL_DAYS if method == "seasonal" else MIN_TRAINING_DAYS)
    if n - first < 2:
        return None
    origins = np.unique(np.linspace(first, n - 1, num=min(MAX_ORIGINS, n - first)).astype(int))
    errors: list[np.ndarray] = []
    actuals: list[np.ndarray] = []
    inside: list[np.ndarray] = []
    for origin in origins:
        fit = METHODS[method](values[:origin], weekdays[:origin])
        steps = np.arange(1, min(horizon, n - origin) + 1, dtype=float)
        actual = values[origin : origin + steps.size]
        error = actual - fit.predict(steps)
        errors.append(error)
        actuals.append(actual)
        inside.append(np.abs(error) <= Z80 * fit.day_std(steps))
    err, act = np.concatenate(errors), np.concatenate(actuals)
    mae = float(np.mean(np.abs(err)))
    naive = float(np.mean(np.abs(np.diff(values)))) if n > 1 else 0.0
    nonzero = act != 0
    return Backtest(
        method=method,
        origins=int(origins.size),
        mae=mae,
        mase=mae / naive if naive > 0 else None,
        mape=float(np.mean(np.abs(err[nonzero] / act[nonzero])) * 100) if nonzero.any() else None,
        coverage=float(np.mean(np.concatenate(inside))),
    )


@dataclass(frozen=True)
class Forecast:
    method: str
    period_end: datetime
    cumulative: bool
    so_far: float
    as_of: datetime
    mean: float  # usage at period end (cumulative: the period total; level: the level)
    lower: float
    upper: float  # the 80 % band's edges
    sigma: float  # standard deviation of ``mean``
    backtest: Backtest | None
    candidates: tuple[Backtest, ...]
    points: int
    first_day: date | None
    last_day: date | None
    # The projected path, one value per day after ``last_day``: mean and the band's edges.
    day_starts: tuple[datetime, ...] = ()
    path: tuple[float, ...] = ()
    path_upper: tuple[float, ...] = ()
    path_lower: tuple[float, ...] = ()

    def exceedance_probability(self, limit: float) -> float:
        """P(usage at period end >= limit) under a normal error with this forecast's sigma."""
        if self.sigma <= 0:
            return 1.0 if self.mean >= limit else 0.0
        return float(stats.norm.sf(limit, loc=self.mean, scale=self.sigma))

    def breach_at(self, limit: float, *, upper: bool = False) -> datetime | None:
        """When the mean path (or the band's upper edge) reaches ``limit``.

        An accumulating counter resets at period end, so it only breaches before then.
        """
        if self.so_far >= limit:
            return self.as_of
        path = np.asarray(self.path_upper if upper else self.path)
        above = np.nonzero(path >= limit)[0]
        if above.size == 0:
            return None
        index = int(above[0])
        # Interpolate within the day the crossing happens in.
        before = self.so_far if index == 0 else float(path[index - 1])
        step = float(path[index]) - before
        share = 1.0 if step <= 0 else min(1.0, max(0.0, (limit - before) / step))
        day_start = self.day_starts[index]
        start = max(day_start, self.as_of)
        moment = start + (day_start + timedelta(days=1) - start) * share
        if self.cumulative and moment >= self.period_end:
            return None
        return moment


def choose_method(series: DailySeries) -> tuple[str, Backtest | None, tuple[Backtest, ...]]:
    """The simplest method whose backtest MAE is within 5 % of the best one.

    All candidates are scored on the same origins, so their errors compare.
    """
    methods = candidate_methods(len(series.values))
    first = MIN_SEASONAL_DAYS if "seasonal" in methods else MIN_TRAINING_DAYS
    scored = [b for b in (backtest(series, m, first_origin=first) for m in methods) if b]
    if not scored:
        return ("trend" if len(series.values) >= 3 else "recent-median"), None, ()
    best_mae = min(b.mae for b in scored)
    chosen = next(b for b in scored if b.mae <= best_mae * 1.05 + 1e-12)
    return chosen.method, chosen, tuple(scored)


def forecast(
    series: DailySeries,
    *,
    so_far: float,
    as_of: datetime,
    period_end: datetime,
) -> Forecast:
    """Forecast to ``period_end`` from the complete days in ``series``.

    ``so_far`` is measured at ``as_of``: for cumulative series the period's usage up to
    then, for levels the newest level. Days after ``as_of`` are forecast; levels are
    projected at least BREACH_HORIZON_DAYS ahead so a breach after the period shows.
    """
    method, chosen, candidates = choose_method(series)
    values = np.asarray(series.values, dtype=float)
    if values.size == 0:
        return Forecast(
            method,
            period_end,
            series.cumulative,
            so_far,
            as_of,
            so_far,
            so_far,
            so_far,
            0.0,
            None,
            (),
            0,
            None,
            None,
        )
    fit = METHODS[method](values, np.array([d.weekday() for d in series.days]))
    last_day = series.days[-1]
    tomorrow = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
    to_period_end = max(1, math.ceil((period_end - tomorrow) / timedelta(days=1)))
    horizon = to_period_end if series.cumulative else max(to_period_end, BREACH_HORIZON_DAYS)
    steps = np.arange(1, horizon + 1, dtype=float)
    predicted = fit.predict(steps)  # step k: the k-th day after last_day
    day_starts = tuple(tomorrow + timedelta(days=k) for k in range(horizon))

    if series.cumulative:
        # A day partly before as_of is partly counted in so_far already.
        weights = np.array([_share_after(start, as_of, period_end) for start in day_starts])
        path = so_far + np.cumsum(predicted * weights)
        spread = fit.total_std(steps, weights)
        mean, sigma = float(path[-1]), float(spread[-1])
        floor = so_far  # a counter never falls below what it has already counted
    else:
        path, spread = predicted, fit.day_std(steps)
        mean = float(path[to_period_end - 1])
        sigma = float(spread[to_period_end - 1])
        floor = 0.0
    lower = max(floor, mean - Z80 * sigma)
    return Forecast(
        method=method,
        period_end=period_end,
        cumulative=series.cumulative,
        so_far=so_far,
        as_of=as_of,
        mean=mean,
        lower=lower,
        upper=mean + Z80 * sigma,
        sigma=sigma,
        backtest=chosen,
        candidates=candidates,
        points=int(values.size),
        first_day=series.days[0],
        last_day=last_day,
        day_starts=day_starts,
        path=tuple(float(v) for v in path),
        path_upper=tuple(float(v) for v in path + Z80 * spread),
        path_lower=tuple(float(v) for v in np.maximum(path - Z80 * spread, floor)),
    )


def _share_after(day_start: datetime, as_of: datetime, period_end: datetime) -> float:
    """The part of the day starting at ``day_start`` that lies after ``as_of``, in the period."""
    day_end = min(day_start + timedelta(days=1), period_end)
    start = max(day_start, as_of)
    if day_end <= start:
        return 0.0
    return (day_end - start) / timedelta(days=1)
