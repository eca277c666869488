"""A band that did not hold is drawn differently from one that did: hatched, another colour."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import numpy as np

from jobs.recommend.forecast import Band, DailySeries, forecast
from jobs.report.charts import COLOURS, svg
from jobs.report.data import SeriesView
from jobs.usage import BillingPeriod

NOW = datetime(2026, 11, 15)


def view(band: Band) -> SeriesView:
    values = tuple(np.random.default_rng(1).normal(1000, 50, 90))
    days = tuple(date(2026, 8, 17) + timedelta(days=i) for i in range(90))
    f = forecast(
        DailySeries(days, values, True),
        so_far=sum(values[-14:]),
        as_of=NOW,
        period_start=datetime(2026, 11, 1),
        period_end=datetime(2026, 12, 1),
    )
    return SeriesView(
        "VERCEL_FUNCTIONS",
        "INVOCATIONS",
        "invocations",
        "vercel-hobby",
        None,
        True,
        ((NOW, sum(values[-14:])),),
        dataclasses.replace(f, band=band),
        None,
    )


def band_element(chart: str) -> str:
    start = chart.index('id="VERCEL_FUNCTIONS-INVOCATIONS-band"')
    return chart[start : chart.index("</g>", start)]


def test_a_poor_band_is_hatched_in_its_own_colour_and_a_good_one_is_not() -> None:
    period = BillingPeriod.containing(NOW)
    good = Band(calibrated=True, calibration=40, checks=24, coverage=19 / 24, horizon=1)
    poor = dataclasses.replace(good, coverage=12 / 24)
    assert poor.poor and not good.poor
    good_band = band_element(svg(view(good), period, NOW))
    poor_band = band_element(svg(view(poor), period, NOW))
    assert COLOURS["band"] in good_band and "fill: url(#" not in good_band
    assert "fill: url(#" in poor_band  # the hatch pattern
    assert COLOURS["poor-band"] in svg(view(poor), period, NOW)
