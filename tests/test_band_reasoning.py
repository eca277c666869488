"""A recommendation that rests on the band's upper edge says how reliable that edge was."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from jobs.recommend import records
from jobs.recommend.advice import Stake, advise
from jobs.recommend.assess import Assessment, outlooks_for
from jobs.recommend.bill import MeterTerms, PlanPrice
from jobs.recommend.cases import MetricTerms, PlanTerms
from jobs.recommend.evaluation import Evaluation, State, Thresholds
from jobs.recommend.forecast import DailySeries, forecast

NOW = datetime(2026, 11, 15)
PERIOD = (datetime(2026, 11, 1), datetime(2026, 12, 1))


def test_a_risk_seen_only_at_the_upper_edge_quotes_the_band_reliability() -> None:
    values = tuple(np.random.default_rng(5).normal(1000, 150, 90))
    days = tuple(date(2026, 8, 17) + timedelta(days=i) for i in range(90))
    so_far = sum(values[-14:])
    f = forecast(
        DailySeries(days, values, True),
        so_far=so_far,
        as_of=NOW,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
    )
    limit = (f.mean + f.upper) / 2  # above the forecast, below the band's upper edge
    terms = MetricTerms(
        "VERCEL_FUNCTIONS",
        "INVOCATIONS",
        "invocations",
        MeterTerms(limit=limit, included=limit, overage_rate=0.0, hard=True),
        Thresholds(0.75, 0.9, 0.7),
        alerting=True,
    )
    assessment = Assessment(
        "VERCEL_FUNCTIONS",
        "INVOCATIONS",
        "hobby",
        terms,
        Evaluation(State.OK, None, so_far, so_far / limit, NOW, None, "ok"),
        f,
        so_far,
    )
    target = PlanTerms(PlanPrice("pro", 20), {})
    advice = advise(
        "vercel-team",
        PlanPrice("hobby", 0),
        target.price,
        outlooks_for([assessment], target),
        Stake(monthly_revenue=0, revenue_share=0),
        PERIOD,
        NOW,
    )
    text = records.reasoning(advice, [assessment])
    assert assessment.breach_at is None
    assert "reached only at the band's upper edge" in text
    assert f.band.text() in text and "coverage over" in f.band.text()
