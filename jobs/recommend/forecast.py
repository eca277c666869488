"""Forecast a series to the end of its billing period, with an 80 % band calibrated on the
series' own history, and measure how well each method would have done. Pure functions,
no IO.

Input is one value per day: the day's amount for metrics that accumulate (requests, GB
transferred), the day's last value for levels (storage). Days without data count as 0 for
amounts (nothing was recorded) and repeat the previous level for levels.

Methods (all fitted on the days before a forecast's origin, vectorised over origins):

- ``run-rate`` (amounts): what the period used so far per elapsed day, flat: so far / days
  elapsed x days in the period. The spreadsheet baseline every other method must beat.
- ``latest`` (levels): the newest level, flat. The baseline for levels.
- ``recent-median``: the median of the last week, flat.
- ``trend``: a Theil-Sen line over the last 28 days (robust to one-off bursts).
- ``seasonal``: a weekday profile (median per weekday) plus a Theil-Sen line on the rest.
- ``seasonal-naive``: last week repeated, plus the drift between the last week and the
  week three weeks before it.
- ``damped``, ``damped-fast`` and ``holt-winters``: exponential smoothing with a damped
  trend and an additive weekly profile, with fixed constants: slow to smooth noise away,
  fast to follow a level shift within days, barely damped to keep a growth going.

The decision quantity is usage at period end: the period's total for amounts, the level
for levels. A rolling-origin backtest replays forecasts of exactly that shape on the
series' own history: at every origin, the same number of elapsed days and the same number
of days to period end as today. The method with the smallest mean absolute error of that
period-end value is chosen: the simplest one within 5 % of the best and no worse than the
baseline, so the choice is never worse on the series' history than the baseline.

The band comes from the chosen method's backtest errors at that horizon (split conformal:
empirical quantiles of the errors, scaled by the series' recent level), so on held-out
data it holds about 80 % of period-end outcomes. With fewer than ``MIN_CALIBRATION``
backtests the band is widened instead and labelled so. Its coverage is measured walking
forward (each backtest checked against a band calibrated only on errors known before it),
which also sets the quantile the band is drawn at (higher where bands held less often),
and stored and shown with the band.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats

NOMINAL = 0.8  # the band's nominal coverage
Z80 = float(stats.norm.ppf(0.5 + NOMINAL / 2))
TREND_WINDOW = 28  # days a trend or a weekly profile is fitted on
RECENT_DAYS = 7
MIN_HISTORY = 14  # days before the first backtest origin (and for the weekly methods)
WARM_UP = 70  # days the exponential smoothing runs before the first origin it serves
MAX_PERIOD_DAYS = 31
MAX_ORIGINS = 60  # the most recent backtest origins kept
MIN_CALIBRATION = 20  # backtests at the horizon needed to calibrate the band
MIN_PRIOR = 10  # errors known before a backtest for it to check the band
MIN_CHECKS = 5  # checks known before they may raise the band's calibration level
# Calibration levels, lowest first; above 1, the widest errors seen stretched by that factor.
LEVELS = (0.7, NOMINAL, 0.86, 0.92, 0.96, 1.0, 1.25, 1.5)
PHASE_SHRINK = 8.0  # pseudo-count pulling a weekday's mean error towards 0
POOR_P = 0.05  # coverage this unlikely under a true 80 % band is labelled poor
WIDEN = 2.0  # an uncalibrated band is this many times the plain-noise band
WIDEN_FLOOR = 0.25  # ... and at least this share of the forecast remainder
CHOICE_TOLERANCE = 1.05  # the simplest method within 5 % of the best MAE is chosen
BREACH_HORIZON_DAYS = 90
DAY = timedelta(days=1)


@dataclass(frozen=True)
class DailySeries:
    days: tuple[date, ...]  # consecutive or not, ascending
    values: tuple[float, ...]
    cumulative: bool  # True: values are daily amounts that add up over the period

    def __post_init__(self) -> None:
        if len(self.days) != len(self.values):
            raise ValueError("days and values differ in length")


def daily_grid(series: DailySeries) -> np.ndarray:
    """One value per calendar day from the first day to the last, gaps filled."""
    if not series.days:
        return np.zeros(0)
    first = series.days[0]
    index = np.array([(d - first).days for d in series.days])
    values = np.asarray(series.values, dtype=float)
    if series.cumulative:
        grid = np.zeros(index[-1] + 1)
        np.add.at(grid, index, values)
        return grid
    # A level holds until the next reading: forward-fill.
    positions = np.zeros(index[-1] + 1, dtype=int)
    positions[index] = np.arange(index.size)
    return values[np.maximum.accumulate(positions)]


# -- methods: each maps (history, origins, horizon, elapsed) to predicted daily values of
# shape (origins, horizon): the days origin, origin + 1, … of the grid.


def _before(x: np.ndarray, origins: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` days before each origin, one row per origin."""
    return x[origins[:, None] - width + np.arange(width)]


def _median_rows(table: np.ndarray) -> np.ndarray:
    ordered = np.sort(table, axis=-1)
    n = ordered.shape[-1]
    return (ordered[..., (n - 1) // 2] + ordered[..., n // 2]) / 2


def _theil_sen(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Theil-Sen intercept and slope of each row over t = 0..n-1 (scipy's estimator:
    median of pairwise slopes, intercept median(y) - slope * median(t))."""
    n = rows.shape[-1]
    if n < 3:
        return _median_rows(rows), np.zeros(rows.shape[:-1])
    i, j = np.triu_indices(n, k=1)
    slope = _median_rows((rows[..., j] - rows[..., i]) / (j - i))
    return _median_rows(rows) - slope * (n - 1) / 2, slope


def _window(origins: np.ndarray) -> int:
    return int(min(TREND_WINDOW, origins.min()))


def _flat(level: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(level[:, None], horizon, axis=1)


def _run_rate(x: np.ndarray, origins: np.ndarray, horizon: int, elapsed: int) -> np.ndarray:
    return _flat(_before(x, origins, elapsed).mean(axis=1), horizon)


def _latest(x: np.ndarray, origins: np.ndarray, horizon: int, _elapsed: int) -> np.ndarray:
    return _flat(x[origins - 1], horizon)


def _recent_median(x: np.ndarray, origins: np.ndarray, horizon: int, _elapsed: int) -> np.ndarray:
    width = int(min(RECENT_DAYS, origins.min()))
    return _flat(_median_rows(_before(x, origins, width)), horizon)


def _trend(x: np.ndarray, origins: np.ndarray, horizon: int, _elapsed: int) -> np.ndarray:
    width = _window(origins)
    intercept, slope = _theil_sen(_before(x, origins, width))
    steps = width - 1 + np.arange(1, horizon + 1)
    return np.maximum(intercept[:, None] + slope[:, None] * steps, 0.0)


def _seasonal(x: np.ndarray, origins: np.ndarray, horizon: int, _elapsed: int) -> np.ndarray:
    width = _window(origins) // 7 * 7
    history = _before(x, origins, width)
    by_phase = _median_rows(history.reshape(-1, width // 7, 7).transpose(0, 2, 1))
    profile = by_phase - by_phase.mean(axis=1, keepdims=True)  # (origins, 7)
    intercept, slope = _theil_sen(history - np.tile(profile, width // 7))
    steps = width - 1 + np.arange(1, horizon + 1)
    return np.maximum(
        intercept[:, None] + slope[:, None] * steps + profile[:, steps % 7],
        0.0,
    )


def _seasonal_naive(x: np.ndarray, origins: np.ndarray, horizon: int, _elapsed: int) -> np.ndarray:
    width = _window(origins) // 7 * 7
    history = _before(x, origins, width)
    weeks_apart = width // 7 - 1
    drift = (history[:, -7:].mean(axis=1) - history[:, :7].mean(axis=1)) / (7 * weeks_apart)
    k = np.arange(1, horizon + 1)
    last_week = history[:, width - 7 + (k - 1) % 7]
    return np.maximum(last_week + drift[:, None] * (7 * np.ceil(k / 7)), 0.0)


@dataclass(frozen=True)
class Smoothing:
    """Constants of additive damped-trend exponential smoothing with a weekly profile."""

    alpha: float  # level
    beta: float  # trend
    phi: float  # damping of the trend per day ahead
    gamma: float  # weekday profile

    def __call__(self, x: np.ndarray, origins: np.ndarray, horizon: int, _: int) -> np.ndarray:
        return _damped(x, origins, horizon, self)


# Slow: smooths noise and holidays away; fast: follows a level shift within days; growth:
# keeps a trend going (Holt-Winters, barely damped).
SLOW = Smoothing(alpha=0.1, beta=0.01, phi=0.8, gamma=0.1)
FAST = Smoothing(alpha=0.3, beta=0.02, phi=0.8, gamma=0.1)
GROWTH = Smoothing(alpha=0.1, beta=0.01, phi=0.98, gamma=0.1)


def _damped(x: np.ndarray, origins: np.ndarray, horizon: int, c: Smoothing) -> np.ndarray:
    """Run the smoothing once through the history; the states after each origin's last
    day give that origin's forecast."""
    n = int(origins.max())
    # The states forget their start within weeks: begin WARM_UP days before the earliest
    # backtest origin any forecast on this history can have, the same for every call.
    start = max(0, x.size - MAX_PERIOD_DAYS - MAX_ORIGINS - WARM_UP)
    start -= start % 7  # keep day t's weekday slot at t mod 7
    values = x[:n].tolist()
    level = sum(values[start : start + 7]) / 7
    trend = (sum(values[start + 7 : start + 14]) / 7 - level) / 7 if n - start >= 14 else 0.0
    season = [v - level for v in values[start : start + 7]]
    levels, trends = [level] * (start + 1), [trend] * (start + 1)
    seasons = [list(season)] * (start + 1)  # the profile after each day, by day mod 7
    for t in range(start, n):
        error = values[t] - (level + c.phi * trend + season[t % 7])
        level = level + c.phi * trend + c.alpha * error
        trend = c.phi * trend + c.beta * error
        season[t % 7] += c.gamma * error
        levels.append(level)
        trends.append(trend)
        seasons.append(list(season))
    k = np.arange(1, horizon + 1)
    damping = np.cumsum(c.phi**k)
    profile = np.asarray(seasons)[origins][:, None, :]  # (origins, 1, 7)
    phase = (origins[:, None] + k - 1) % 7
    rows = np.take_along_axis(profile[:, 0, :], phase, axis=1)
    return np.maximum(
        np.asarray(levels)[origins][:, None]
        + np.asarray(trends)[origins][:, None] * damping
        + rows,
        0.0,
    )


Method = Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]

# Simplest first: a more complex method must earn its place. (name, function, days needed)
METHODS: dict[str, tuple[Method, int]] = {
    "recent-median": (_recent_median, 1),
    "run-rate": (_run_rate, 1),
    "latest": (_latest, 1),
    "trend": (_trend, 3),
    "seasonal-naive": (_seasonal_naive, MIN_HISTORY),
    "seasonal": (_seasonal, MIN_HISTORY),
    "damped": (SLOW, MIN_HISTORY),
    "damped-fast": (FAST, MIN_HISTORY),
    "holt-winters": (GROWTH, MIN_HISTORY),
}


def baseline(cumulative: bool) -> str:
    """The spreadsheet forecast every other method is measured against."""
    return "run-rate" if cumulative else "latest"


def candidate_methods(n_days: int, cumulative: bool, elapsed: int) -> list[str]:
    methods = []
    for name, (_, needs) in METHODS.items():
        if name in ("run-rate", "latest") and name != baseline(cumulative):
            continue
        if name == "run-rate" and elapsed < 1:
            continue  # nothing elapsed: no rate yet
        if n_days >= needs:
            methods.append(name)
    return methods


@dataclass(frozen=True)
class Backtest:
    """One method's rolling-origin backtest of the period-end value at today's horizon."""

    method: str
    origins: int  # forecasts replayed
    mae: float  # mean absolute error of the period-end value
    mape: float | None  # percent of the period-end value, over non-zero outcomes
    relative_mae: float | None  # MAE over the baseline's MAE (below 1: better)
    coverage: float | None  # walk-forward share of outcomes inside this method's band
    checks: int  # backtests that checked the band

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "origins": self.origins,
            "mae": self.mae,
            "mape": self.mape,
            "relativeMae": self.relative_mae,
            "coverage": self.coverage,
            "checks": self.checks,
        }


@dataclass(frozen=True)
class Band:
    """Where the 80 % band comes from and how often it held on the series' history."""

    calibrated: bool  # False: too little history, widened instead
    calibration: int  # backtest errors at this horizon the band is drawn from
    checks: int  # walk-forward backtests that checked it
    coverage: float | None  # share of those inside the band
    horizon: int  # days to period end
    level: float = NOMINAL  # quantile level of the errors it is drawn at (>1: stretched)

    @property
    def poor(self) -> bool:
        """Measured coverage this low would be unlikely (under 5 %) from a true 80 % band."""
        if self.coverage is None or not self.checks:
            return False
        # Backtests on consecutive days whose periods overlap share most of their days:
        # they count as one per horizon, or a well-calibrated band would be called poor.
        independent = max(1, math.ceil(self.checks / max(self.horizon, 1)))
        hits = round(self.coverage * independent)
        return float(stats.binom.cdf(hits, independent, NOMINAL)) < POOR_P

    def text(self) -> str:
        """The band's reliability in words, as every view shows it."""
        backtests = "backtest" if self.checks == 1 else "backtests"
        measured = (
            f"{self.coverage:.0%} coverage over {self.checks} {backtests}"
            if self.coverage is not None and self.checks
            else "coverage not measured yet"
        )
        if not self.calibrated:
            return (
                f"80% band widened, not calibrated (only {self.calibration} backtests at "
                f"{self.horizon} days ahead); {measured}"
            )
        if self.poor:
            return f"80% band POOR: {measured}"
        return f"80% band, {measured}"

    def short(self) -> str:
        """The same, in a few words (a chart's legend)."""
        if not self.calibrated:
            return "80% band, widened: too little history"
        if self.coverage is None or not self.checks:
            return "80% band"
        return f"80% band{' POOR' if self.poor else ''}: {self.coverage:.0%} coverage"

    def to_json(self) -> dict[str, object]:
        return {
            "nominal": NOMINAL,
            "calibrated": self.calibrated,
            "calibration": self.calibration,
            "checks": self.checks,
            "coverage": self.coverage,
            "horizon": self.horizon,
            "level": self.level,
            "poor": self.poor,
            "text": self.text(),
        }


def band_text(band: dict[str, Any] | None) -> str:
    """The reliability text of a band stored as JSON (rows from before it have none)."""
    return str(band["text"]) if band else "80% band, reliability not recorded"


UNCHECKED = Band(calibrated=False, calibration=0, checks=0, coverage=None, horizon=0)


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
    backtest: Backtest | None
    candidates: tuple[Backtest, ...]
    points: int
    first_day: date | None
    last_day: date | None
    band: Band = UNCHECKED
    # The projected path, one value per day after ``last_day``: mean and the band's edges.
    day_starts: tuple[datetime, ...] = ()
    path: tuple[float, ...] = ()
    path_upper: tuple[float, ...] = ()
    path_lower: tuple[float, ...] = ()

    @property
    def sigma(self) -> float:
        """The standard deviation of a normal with the same 80 % band width."""
        return (self.upper - self.lower) / (2 * Z80)

    def exceedance_probability(self, limit: float) -> float:
        """P(usage at period end >= limit): a two-piece normal through the band's edges
        (the band may be asymmetric: spikes push the upper edge out)."""
        if limit >= self.mean:
            spread = (self.upper - self.mean) / Z80
            if spread <= 0:
                return 1.0 if self.mean >= limit else 0.0
            return float(stats.norm.sf(limit, loc=self.mean, scale=spread))
        spread = (self.mean - self.lower) / Z80
        if spread <= 0:
            return 1.0
        return float(stats.norm.sf(limit, loc=self.mean, scale=spread))

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
        moment = start + (day_start + DAY - start) * share
        if self.cumulative and moment >= self.period_end:
            return None
        return moment


@dataclass(frozen=True)
class _Shape:
    """What a forecast of today's shape needs: elapsed days, weights of the days ahead."""

    cumulative: bool
    elapsed: int  # complete days of the period before the origin
    weights: np.ndarray  # per day ahead: its share in the period-end value

    @property
    def horizon(self) -> int:
        return int(self.weights.size)

    def truncated(self, horizon: int) -> _Shape:
        """The same forecast, ``horizon`` days ahead instead."""
        if self.cumulative:
            return _Shape(True, self.elapsed, self.weights[:horizon])
        return _Shape(False, self.elapsed, _period_weights(False, horizon))

    def target(self, daily: np.ndarray) -> np.ndarray:
        """Period-end value still to come from daily values (origins x horizon)."""
        return daily @ self.weights if self.cumulative else daily[:, -1]


@dataclass(frozen=True)
class _Replay:
    """One method's backtest: per origin the predicted and actual remainder and a scale."""

    method: str
    origins: np.ndarray
    error: np.ndarray  # actual - predicted period-end value
    scores: np.ndarray  # error / scale: comparable across the series' changing level
    outcome: np.ndarray  # the actual period-end value (for MAPE)


def _scale(x: np.ndarray, origins: np.ndarray, shape: _Shape) -> np.ndarray:
    """The size of the period-end value at each origin: recent daily level x days ahead
    (amounts) or the recent level; errors are measured in this unit."""
    width = int(min(2 * RECENT_DAYS, origins.min()))
    recent = np.abs(_before(x, origins, width)).mean(axis=1)
    totals = np.concatenate(([0.0], np.cumsum(np.abs(x))))
    overall = totals[origins] / origins
    level = np.maximum(recent, overall)
    level = np.where(level > 0, level, 1.0)
    return level * (shape.weights.sum() if shape.cumulative else 1.0)


def _origins(n: int, shape: _Shape) -> np.ndarray:
    first = max(MIN_HISTORY, shape.elapsed)
    last = n - shape.horizon
    if last < first:
        return np.zeros(0, dtype=int)
    return np.arange(max(first, last - MAX_ORIGINS + 1), last + 1)


def _replay(x: np.ndarray, method: str, origins: np.ndarray, shape: _Shape) -> _Replay:
    predict = METHODS[method][0]
    predicted = shape.target(predict(x, origins, shape.horizon, shape.elapsed))
    ahead = x[origins[:, None] + np.arange(shape.horizon)]
    actual = shape.target(ahead)
    error = actual - predicted
    if shape.cumulative:
        already = _before(x, origins, shape.elapsed).sum(axis=1) if shape.elapsed else 0.0
        outcome = actual + already
    else:
        outcome = actual
    return _Replay(method, origins, error, error / _scale(x, origins, shape), outcome)


def _quantile_index(count: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0-based order statistics of the conformal interval at each level (rows) among
    ``count`` scores (columns)."""
    tail = (1 - np.minimum(levels, 1.0))[:, None] / 2
    last = np.maximum(count - 1, 0)
    low = np.floor((count + 1) * tail).astype(int) - 1
    high = np.ceil((count + 1) * (1 - tail)).astype(int) - 1
    return np.clip(low, 0, last), np.clip(high, 0, last)


@dataclass(frozen=True)
class _Spread:
    """Per forecast (row): the centre of its band and the sorted errors around it."""

    centre: np.ndarray
    errors: np.ndarray  # rows x backtests, ascending, padded with inf
    known: np.ndarray  # errors known per row
    widen: np.ndarray  # for the centre's own uncertainty

    def interval(self, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The band's edges at each calibration level (levels x rows; above 1: the widest
        errors stretched by that factor)."""
        low, high = _quantile_index(self.known, levels)
        rows = np.arange(self.known.size)[None, :]
        widen = self.widen[None, :] * np.maximum(levels, 1.0)[:, None]
        return (
            self.centre + self.errors[rows, low] * widen,
            self.centre + self.errors[rows, high] * widen,
        )


def _spread(replay: _Replay, known: np.ndarray, targets: np.ndarray) -> _Spread:
    """The errors, in score units, a forecast at each of ``targets`` calibrates on: the
    first ``known`` backtests' (one row per target).

    A forecast's error depends on how the weekdays fall: a run rate over days that held
    two Sundays undershoots. So the errors of origins on the same weekday as the target
    set the band's centre (their mean, shrunk towards 0), and its spread is that of all
    errors around their own weekday's mean, widened for the centre's uncertainty.
    """
    scores, origins = replay.scores, replay.origins
    in_prefix = np.arange(scores.size)[None, :] < known[:, None]
    phase = (targets[:, None] - origins[None, :]) % 7
    weekday = (phase[..., None] == np.arange(7)).astype(float)  # rows x backtests x 7
    sums = np.einsum("ro,rop->rp", np.where(in_prefix, scores, 0.0), weekday)
    counts = np.einsum("ro,rop->rp", in_prefix.astype(float), weekday)
    bias = sums / (counts + PHASE_SHRINK)
    errors = np.where(in_prefix, scores - np.take_along_axis(bias, phase, axis=1), np.inf)
    errors.sort(axis=1)
    widen = np.sqrt(1 + 1 / np.maximum(counts[:, 0], 1))
    return _Spread(bias[:, 0], errors, known, widen)


def _checks(replay: _Replay, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Walk-forward checks of a method's band at every calibration level: for each backtest
    with at least MIN_PRIOR errors known before it, whether its outcome fell inside the band
    calibrated on those errors (levels x checks), and the checks' origins."""
    origins = replay.origins
    known = np.searchsorted(origins + horizon, origins, side="right")  # errors known by then
    rows = np.nonzero(known >= MIN_PRIOR)[0]
    if rows.size == 0:
        return np.zeros((len(LEVELS), 0), dtype=bool), rows
    lower, upper = _spread(replay, known[rows], origins[rows]).interval(np.asarray(LEVELS))
    score = replay.scores[rows]
    return (score >= lower) & (score <= upper), origins[rows]


def _levels(inside: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per row, the index of the calibration level to draw the band at: the lowest whose
    bands held at least 80 % of the first ``known`` checks (the nominal level with fewer
    than MIN_CHECKS, the widest when none did).

    Calibrating on past errors assumes the future errs like the past; where a series keeps
    changing (holidays, heat waves) its bands held less often walking forward, and this
    step draws them from a higher quantile of the same errors, up to the widest error seen
    stretched by half again; where they held more often, from a lower one.
    """
    hits = np.concatenate([np.zeros((inside.shape[0], 1)), np.cumsum(inside, axis=1)], axis=1)
    held = hits[:, known] >= NOMINAL * known  # levels x rows
    chosen = np.where(held.any(axis=0), held.argmax(axis=0), len(LEVELS) - 1)
    return np.where(known >= MIN_CHECKS, chosen, LEVELS.index(NOMINAL))


def _walk_forward(
    inside: np.ndarray, origins: np.ndarray, horizon: int
) -> tuple[float | None, int]:
    """Coverage of the band as it would have been drawn at each check (level chosen on the
    checks known before it)."""
    if origins.size == 0:
        return None, 0
    known = np.searchsorted(origins + horizon, origins, side="right")
    held = inside[_levels(inside, known), np.arange(origins.size)]
    return float(held.mean()), int(origins.size)


def _summary(replay: _Replay, baseline_mae: float | None) -> Backtest:
    """Its errors; its band's coverage is only checked if it is chosen."""
    mae = float(np.mean(np.abs(replay.error)))
    nonzero = replay.outcome != 0
    return Backtest(
        method=replay.method,
        origins=int(replay.origins.size),
        mae=mae,
        mape=(
            float(np.mean(np.abs(replay.error[nonzero] / replay.outcome[nonzero])) * 100)
            if nonzero.any()
            else None
        ),
        relative_mae=mae / baseline_mae if baseline_mae else None,
        coverage=None,
        checks=0,
    )


@dataclass(frozen=True)
class _Choice:
    method: str
    replay: _Replay | None  # None: no backtest at today's horizon
    backtest: Backtest | None
    candidates: tuple[Backtest, ...]
    level: float = NOMINAL  # the band's calibration level, from its walk-forward checks


def _choose(x: np.ndarray, shape: _Shape) -> _Choice:
    methods = candidate_methods(x.size, shape.cumulative, shape.elapsed)
    origins = _origins(x.size, shape)
    base = baseline(shape.cumulative)
    if origins.size == 0:
        # The history is shorter than the horizon: choose on the longest horizon it allows;
        # such errors say nothing about the band at the real horizon.
        shorter = x.size - max(MIN_HISTORY, shape.elapsed)
        if shorter < 1:
            return _Choice(base if base in methods else "recent-median", None, None, ())
        choice = _choose(x, shape.truncated(shorter))
        return _Choice(choice.method, None, choice.backtest, choice.candidates)
    replays = [_replay(x, m, origins, shape) for m in methods if origins.min() >= METHODS[m][1]]
    maes = {r.method: float(np.mean(np.abs(r.error))) for r in replays}
    best = min(maes.values())
    # Never worse than the baseline on this history, and no more complex than it must be.
    ceiling = min(best * CHOICE_TOLERANCE, maes.get(base, math.inf)) + 1e-12
    replay = next(r for r in replays if maes[r.method] <= ceiling)
    inside, check_origins = _checks(replay, shape.horizon)
    coverage, checks = _walk_forward(inside, check_origins, shape.horizon)
    level = LEVELS[int(_levels(inside, np.array([check_origins.size]))[0])]
    scored = tuple(
        dataclasses.replace(b, coverage=coverage, checks=checks) if b.method == replay.method else b
        for b in (_summary(r, maes.get(base)) for r in replays)
    )
    chosen = next(b for b in scored if b.method == replay.method)
    return _Choice(replay.method, replay, chosen, scored, level)


def _plain_noise(x: np.ndarray, shape: _Shape) -> float:
    """Half-width of an 80 % band for independent daily noise around an estimated level."""
    recent = x[-TREND_WINDOW:]
    if recent.size < 2:
        return 0.0
    sd = float(np.std(recent, ddof=1))
    if shape.cumulative:
        w = shape.weights
        return Z80 * sd * math.sqrt(float(w @ w) + float(w.sum()) ** 2 / recent.size)
    return Z80 * sd * math.sqrt(1 + 1 / recent.size)


def _band_offsets(
    x: np.ndarray, shape: _Shape, choice: _Choice, remainder: float
) -> tuple[float, float, Band]:
    """The band's edges relative to the point forecast, and its basis."""
    replay, chosen = choice.replay, choice.backtest
    count = 0 if replay is None else int(replay.scores.size)
    coverage, checks = (chosen.coverage, chosen.checks) if chosen and replay else (None, 0)
    if replay is not None and count >= MIN_CALIBRATION:
        now = np.array([x.size])
        scale = float(_scale(x, now, shape)[0])
        level = choice.level
        low, high = _spread(replay, np.array([count]), now).interval(np.array([level]))
        band = Band(True, count, checks, coverage, shape.horizon, level)
        return float(low[0, 0]) * scale, float(high[0, 0]) * scale, band
    # Too little history to calibrate: widen, never narrower than any error seen so far.
    half = max(WIDEN * _plain_noise(x, shape), WIDEN_FLOOR * abs(remainder))
    low_off, high_off = -half, half
    if replay is not None and count:
        low_off = min(low_off, float(replay.error.min()))
        high_off = max(high_off, float(replay.error.max()))
    return low_off, high_off, Band(False, count, checks, coverage, shape.horizon)


def choose_method(
    series: DailySeries, *, elapsed: int, horizon: int
) -> tuple[str, Backtest | None, tuple[Backtest, ...]]:
    """The method a forecast ``horizon`` days before period end, ``elapsed`` days into it,
    would use, its backtest and every candidate's (no partial days)."""
    shape = _Shape(series.cumulative, elapsed, _period_weights(series.cumulative, horizon))
    choice = _choose(daily_grid(series), shape)
    return choice.method, choice.backtest, choice.candidates


def _period_weights(cumulative: bool, horizon: int) -> np.ndarray:
    if cumulative:
        return np.ones(horizon)
    weights = np.zeros(horizon)
    weights[-1] = 1.0
    return weights


def forecast(
    series: DailySeries,
    *,
    so_far: float,
    as_of: datetime,
    period_start: datetime,
    period_end: datetime,
) -> Forecast:
    """Forecast to ``period_end`` from the complete days in ``series``.

    ``so_far`` is measured at ``as_of``: for cumulative series the period's usage up to
    then, for levels the newest level. Days after ``as_of`` are forecast; levels are
    projected at least BREACH_HORIZON_DAYS ahead so a breach after the period shows.
    """
    x = daily_grid(series)
    if x.size == 0:
        return Forecast(
            baseline(series.cumulative),
            period_end,
            series.cumulative,
            so_far,
            as_of,
            so_far,
            so_far,
            so_far,
            None,
            (),
            0,
            None,
            None,
        )
    last_day = series.days[-1]
    tomorrow = datetime.combine(last_day + DAY, datetime.min.time())
    to_period_end = max(1, math.ceil((period_end - tomorrow) / DAY))
    horizon = to_period_end if series.cumulative else max(to_period_end, BREACH_HORIZON_DAYS)
    day_starts = tuple(tomorrow + k * DAY for k in range(horizon))
    elapsed_days = max(0.0, (as_of - period_start) / DAY)
    elapsed = min(int(elapsed_days), x.size)
    if series.cumulative:
        # A day partly before as_of is partly counted in so_far already.
        weights = np.array([_share_after(start, as_of, period_end) for start in day_starts])
    else:
        weights = _period_weights(False, to_period_end)
    shape = _Shape(series.cumulative, elapsed, weights[:to_period_end])
    choice = _choose(x, shape)
    method = choice.method

    if method == "run-rate":
        # so far ÷ elapsed days: exactly the spreadsheet's rate, partial days included.
        rate = so_far / elapsed_days if elapsed_days > 0 else 0.0
        predicted = np.full(horizon, rate)
    else:
        predicted = METHODS[method][0](x, np.array([x.size]), horizon, elapsed)[0]
    if series.cumulative:
        path = so_far + np.cumsum(predicted * weights)
        floor = so_far  # a counter never falls below what it has already counted
        remainder = float(path[-1]) - so_far
    else:
        path, floor = predicted, 0.0
        remainder = float(path[to_period_end - 1])
    mean = float(path[to_period_end - 1])
    low_off, high_off, band = _band_offsets(x, shape, choice, remainder)
    # The band along the path: exact at period end, narrower before it (as the square
    # root of the days ahead), growing in proportion beyond it (levels).
    k = np.arange(1, horizon + 1) / to_period_end
    reach = np.maximum(np.sqrt(k), k)
    return Forecast(
        method=method,
        period_end=period_end,
        cumulative=series.cumulative,
        so_far=so_far,
        as_of=as_of,
        mean=mean,
        lower=max(floor, mean + low_off),
        upper=max(floor, mean + high_off),
        backtest=choice.backtest,
        candidates=choice.candidates,
        points=len(series.values),
        first_day=series.days[0],
        last_day=last_day,
        band=band,
        day_starts=day_starts,
        path=tuple(float(v) for v in path),
        path_upper=tuple(float(v) for v in np.maximum(path + high_off * reach, floor)),
        path_lower=tuple(float(v) for v in np.maximum(path + low_off * reach, floor)),
    )


def _share_after(day_start: datetime, as_of: datetime, period_end: datetime) -> float:
    """The part of the day starting at ``day_start`` that lies after ``as_of``, in the period."""
    day_end = min(day_start + DAY, period_end)
    start = max(day_start, as_of)
    if day_end <= start:
        return 0.0
    return (day_end - start) / DAY
