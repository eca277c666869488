"""ROI, cost and priority, checked against arithmetic done by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from jobs.recommend.advice import (
    MetricOutlook,
    Priority,
    Scenario,
    Stake,
    advise,
    check_sanity,
)
from jobs.recommend.bill import Bill, MeterTerms, PlanPrice, bill

NOV = (datetime(2026, 11, 1), datetime(2026, 12, 1))  # 30 days, 720 hours
NO_REVENUE = Stake(monthly_revenue=0, revenue_share=0)


def requests(mean: float, upper: float) -> MetricOutlook:
    return MetricOutlook(
        metric_type="REQUESTS",
        so_far=800_000,
        mean=mean,
        upper=upper,
        exceed_probability=0.99,
        breach_at=datetime(2026, 11, 20),
        breach_at_upper=None,
        current=MeterTerms(limit=1_000_000, included=1_000_000, overage_rate=0.00004, hard=False),
        target=MeterTerms(limit=3_000_000, included=3_000_000, overage_rate=0.00002, hard=False),
    )


def test_soft_overage_that_pays() -> None:
    advice = advise(
        "VERCEL_FUNCTIONS",
        PlanPrice("basic", 20),
        PlanPrice("plus", 50),
        [requests(2_000_000, 2_400_000)],
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 10),
    )
    # Mean: overage now (2M - 1M) * $0.00004 = $40, none on the target; dC = $30.
    assert advice.delta_cost == 30
    assert advice.mean.current_overage == pytest.approx(40)
    assert advice.mean.overage_avoided == pytest.approx(40)
    assert advice.mean.projected_cost == pytest.approx(60)
    assert advice.mean.upgraded_cost == pytest.approx(50)
    assert advice.mean.roi == pytest.approx((40 - 30) / 30)
    assert advice.mean.payback_days == pytest.approx(30 / 40 * 30)  # 22.5 days
    # Upper edge: (2.4M - 1M) * $0.00004 = $56.
    assert advice.upper.overage_avoided == pytest.approx(56)
    assert advice.upper.roi == pytest.approx(26 / 30)
    assert advice.current_cost == 20  # 800K used so far: no overage yet
    assert advice.pays and advice.recommended and not advice.risk_only
    assert advice.priority is Priority.MEDIUM


def test_soft_overage_that_does_not_pay_is_not_recommended() -> None:
    advice = advise(
        "VERCEL_FUNCTIONS",
        PlanPrice("basic", 20),
        PlanPrice("plus", 50),
        [requests(1_500_000, 1_600_000)],
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 10),
    )
    # $20 avoided for $30 more: ROI = (20 - 30) / 30.
    assert advice.mean.overage_avoided == pytest.approx(20)
    assert advice.mean.roi == pytest.approx(-1 / 3)
    assert advice.upper.roi == pytest.approx((24 - 30) / 30)
    assert not advice.pays and not advice.risk_only and not advice.recommended


def bandwidth(mean: float, upper: float, probability: float) -> MetricOutlook:
    return MetricOutlook(
        metric_type="BANDWIDTH_GB",
        so_far=90,
        mean=mean,
        upper=upper,
        exceed_probability=probability,
        breach_at=datetime(2026, 11, 25),
        breach_at_upper=datetime(2026, 11, 23),
        current=MeterTerms(limit=100, included=100, overage_rate=0.0, hard=True),
        target=MeterTerms(limit=1000, included=1000, overage_rate=0.15, hard=False),
    )


def test_hard_limit_with_revenue_at_risk() -> None:
    business = Stake(monthly_revenue=7200, revenue_share=0.5)
    advice = advise(
        "VERCEL_BANDWIDTH",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20),
        [bandwidth(120, 150, 0.9)],
        business,
        NOV,
        datetime(2026, 11, 20),
    )
    # $7200 / 720 h * 0.5 = $5 per hour; paused from Nov 25 to Dec 1 = 144 h; P = 0.9.
    assert advice.mean.hours_degraded == pytest.approx(144)
    assert advice.mean.revenue_at_risk == pytest.approx(0.9 * 144 * 5)  # $648
    assert advice.mean.overage_avoided == 0  # a hard limit bills no overage
    assert advice.mean.roi == pytest.approx((648 - 20) / 20)
    assert advice.mean.payback_days == pytest.approx(20 / 648 * 30)
    # Upper edge: 150 GB is over the limit for sure, from Nov 23: 192 h.
    assert advice.upper.revenue_at_risk == pytest.approx(1.0 * 192 * 5)
    assert advice.priority is Priority.HIGH  # hard breach in 5 days
    assert advice.hard_breach_at == datetime(2026, 11, 25)


def test_hard_limit_that_does_not_pay_is_still_reported_as_a_risk() -> None:
    advice = advise(
        "VERCEL_BANDWIDTH",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20),
        [bandwidth(120, 150, 0.9)],
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 23),
    )
    # No revenue set: what the pause costs is unknown, so is the ROI (never a made-up -100 %).
    assert advice.mean.revenue_unknown and advice.mean.roi is None
    assert advice.mean.payback_days is None
    assert not advice.pays
    assert advice.risk_only and advice.recommended
    assert advice.priority is Priority.CRITICAL  # hard breach within 3 days


def test_several_hard_limits_count_one_pause() -> None:
    business = Stake(monthly_revenue=7200, revenue_share=0.5)
    two = [
        bandwidth(120, 150, 0.5),
        MetricOutlook(
            metric_type="REQUESTS",
            so_far=1,
            mean=2,
            upper=3,
            exceed_probability=0.5,
            breach_at=datetime(2026, 11, 26),
            breach_at_upper=None,
            current=MeterTerms(limit=1, included=1, overage_rate=0, hard=True),
            target=None,
        ),
    ]
    advice = advise(
        "VERCEL_BANDWIDTH",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20),
        two,
        business,
        NOV,
        datetime(2026, 11, 20),
    )
    # P(any) = 1 - 0.5 * 0.5 = 0.75, from the earliest breach (Nov 25: 144 h), not a sum.
    assert advice.mean.pause_probability == pytest.approx(0.75)
    assert advice.mean.revenue_at_risk == pytest.approx(0.75 * 144 * 5)
    assert advice.mean.revenue_at_risk <= business.monthly_revenue * business.revenue_share


def test_sanity_rules_reject_savings_larger_than_the_bill() -> None:
    bad = Scenario(
        usage={},
        current_overage=10,
        target_overage=0,
        overage_avoided=11,
        pause_probability=0,
        hours_degraded=0,
        revenue_at_risk=0,
        projected_cost=0,
        upgraded_cost=0,
        upgrade_cost=0,
        roi=None,
        payback_days=None,
        current_bill=Bill("a", 0, 0, 0, 10, ()),
        target_bill=Bill("b", 0, 0, 0, 0, ()),
    )
    with pytest.raises(AssertionError, match="overage avoided exceeds"):
        check_sanity(bad, NO_REVENUE)


def test_an_upgrade_that_costs_nothing_more_has_no_roi_but_pays_at_once() -> None:
    advice = advise(
        "VERCEL_FUNCTIONS",
        PlanPrice("basic", 20),
        PlanPrice("other", 20),
        [requests(2_000_000, 2_400_000)],
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 10),
    )
    assert advice.mean.upgrade_cost == 0
    assert advice.mean.roi is None and advice.mean.payback_days == 0
    assert advice.pays and advice.recommended


def test_pay_as_you_go_target_counts_its_usage_bill_as_the_cost() -> None:
    commands = MetricOutlook(
        metric_type="OPERATIONS",
        so_far=450_000,
        mean=600_000,
        upper=700_000,
        exceed_probability=0.9,
        breach_at=datetime(2026, 11, 25),
        breach_at_upper=datetime(2026, 11, 23),
        current=MeterTerms(limit=500_000, included=500_000, overage_rate=0, hard=True),
        # Billed from the first command: $0.20 per 100K.
        target=MeterTerms(limit=float("inf"), included=0, overage_rate=0.2 / 100_000, hard=False),
    )
    business = Stake(monthly_revenue=7200, revenue_share=0.5)
    advice = advise(
        "VERCEL_KV",
        PlanPrice("upstash-free", 0),
        PlanPrice("upstash-payg", 0),
        [commands],
        business,
        NOV,
        datetime(2026, 11, 20),
    )
    # Price difference 0, but 600K commands cost $1.20 on the target: C = $1.20.
    assert advice.mean.upgrade_cost == pytest.approx(1.2)
    assert advice.mean.overage_avoided == 0
    assert advice.mean.revenue_at_risk == pytest.approx(648)  # 0.9 * 144 h * $5/h
    assert advice.mean.roi == pytest.approx((648 - 1.2) / 1.2)
    assert advice.mean.payback_days == pytest.approx(1.2 / 648 * 30)
    assert advice.pays


def test_meters_drawing_the_usage_credit_share_it() -> None:
    def meter(metric: str, usage: float, rate: float) -> MetricOutlook:
        terms = MeterTerms(
            limit=20 / rate, included=0, overage_rate=rate, hard=False, draws_credit=True
        )
        return MetricOutlook(
            metric_type=metric,
            so_far=usage,
            mean=usage,
            upper=usage,
            exceed_probability=0,
            breach_at=None,
            breach_at_upper=None,
            current=terms,
            target=None,
        )

    pro = PlanPrice("vercel-pro", 20, usage_credit=20)
    # $15 + $10 drawn from one $20 credit: $5 billed, not $25.
    advice = advise(
        "VERCEL_FUNCTIONS",
        pro,
        PlanPrice("vercel-enterprise", 100),
        [meter("CPU_HOURS", 15 / 0.128, 0.128), meter("INVOCATIONS", 10 / 0.6e-6, 0.6e-6)],
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 10),
    )
    assert advice.mean.current_overage == pytest.approx(5)
    assert advice.mean.projected_cost == pytest.approx(25)


def test_the_bill_on_each_plan_by_hand() -> None:
    pro = PlanPrice("vercel-pro", 20, usage_credit=20)
    hobby = PlanPrice("vercel-hobby", 0)
    usage = {
        "VERCEL_BANDWIDTH/BANDWIDTH_GB": 1200.0,
        "VERCEL_FUNCTIONS/CPU_HOURS": 100.0,
        "VERCEL_IMAGE_OPTIMIZATION/OPERATIONS": 300_000.0,
    }
    on_pro = {
        "VERCEL_BANDWIDTH/BANDWIDTH_GB": MeterTerms(1000, 1000, 0.15, hard=False),
        "VERCEL_FUNCTIONS/CPU_HOURS": MeterTerms(20 / 0.128, 0, 0.128, False, draws_credit=True),
        "VERCEL_IMAGE_OPTIMIZATION/OPERATIONS": MeterTerms(
            20 / 0.00005, 0, 0.00005, False, draws_credit=True
        ),
    }
    on_hobby = {
        "VERCEL_BANDWIDTH/BANDWIDTH_GB": MeterTerms(100, 100, 0, hard=True),
        "VERCEL_FUNCTIONS/CPU_HOURS": MeterTerms(4, 4, 0, hard=True),
        "VERCEL_IMAGE_OPTIMIZATION/OPERATIONS": MeterTerms(5000, 5000, 0, hard=True),
    }
    b = bill(pro, [(m, on_pro[m], u) for m, u in usage.items()])
    # Own allowance: (1200 - 1000) GB * $0.15 = $30. Credit meters: 100 h * $0.128 = $12.80
    # and 300K * $0.05/1K = $15, together $27.80 of which the $20 credit pays $20.
    assert [(m.meter, m.charge) for m in b.meters] == [
        ("VERCEL_BANDWIDTH/BANDWIDTH_GB", pytest.approx(30)),
        ("VERCEL_FUNCTIONS/CPU_HOURS", pytest.approx(12.8)),
        ("VERCEL_IMAGE_OPTIMIZATION/OPERATIONS", pytest.approx(15)),
    ]
    assert b.credit_drawn == pytest.approx(20)
    assert b.on_demand == pytest.approx(30 + 7.8)
    assert b.total == pytest.approx(57.8)
    assert b.paused == ()
    free = bill(hobby, [(m, on_hobby[m], u) for m, u in usage.items()])
    assert free.total == 0 and set(free.paused) == set(usage)
    assert Bill.from_json(b.to_json()) == b


def test_one_account_weighs_every_service_together() -> None:
    """Three Vercel services near their Hobby limits: one price difference, one credit,
    one pause (P(any), from the earliest breach), revenue at risk counted once."""

    def meter(service: str, metric: str, limit: float, rate: float, p: float, day: int):
        return MetricOutlook(
            metric_type=metric,
            so_far=limit * 0.8,
            mean=limit * 1.1,
            upper=limit * 1.3,
            exceed_probability=p,
            breach_at=datetime(2026, 11, day),
            breach_at_upper=datetime(2026, 11, day - 2),
            current=MeterTerms(limit, limit, 0, hard=True),
            target=MeterTerms(20 / rate, 0, rate, False, draws_credit=True),
            service=service,
        )

    outlooks = [
        meter("VERCEL_FUNCTIONS", "CPU_HOURS", 4, 0.128, 0.5, 25),
        meter("VERCEL_BLOB", "READ_OPERATIONS", 10_000, 0.4e-6, 0.5, 27),
        meter("VERCEL_IMAGE_OPTIMIZATION", "OPERATIONS", 5000, 0.05e-3, 0.5, 28),
    ]
    business = Stake(monthly_revenue=7200, revenue_share=0.5)
    advice = advise(
        "vercel-team",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20, usage_credit=20),
        outlooks,
        business,
        NOV,
        datetime(2026, 11, 20),
    )
    m = advice.mean
    # Credit drawn: 4.4 h * $0.128 + 11K * $0.40/1M + 5500 * $0.05/1K = $0.5632 + $0.0044
    # + $0.275 = $0.8426, all within the $20 credit: the Pro bill is its price, $20.
    assert m.target_bill.credit_drawn == pytest.approx(0.8426)
    assert m.target_bill.total == 20 and m.upgrade_cost == 20
    # One pause: P(any) = 1 - 0.5^3 = 0.875 from the earliest breach (Nov 25: 144 h) at $5/h.
    assert m.pause_probability == pytest.approx(0.875)
    assert m.revenue_at_risk == pytest.approx(0.875 * 144 * 5)
    assert m.roi == pytest.approx((0.875 * 144 * 5 - 20) / 20)
    assert advice.delta_cost == 20  # the plan change counted once
    assert set(m.current_bill.paused) == {o.meter for o in outlooks}

    unknown = advise(
        "vercel-team",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20, usage_credit=20),
        outlooks,
        NO_REVENUE,
        NOV,
        datetime(2026, 11, 20),
    )
    assert unknown.mean.roi is None and unknown.mean.revenue_unknown
    assert unknown.recommended and unknown.risk_only


def test_a_hard_limit_already_reached_is_certain_and_counts_from_now() -> None:
    reached = MetricOutlook(
        metric_type="BANDWIDTH_GB",
        so_far=104,
        mean=150,
        upper=170,
        exceed_probability=1.0,
        breach_at=datetime(2026, 11, 20),
        breach_at_upper=datetime(2026, 11, 20),
        current=MeterTerms(limit=100, included=100, overage_rate=0.0, hard=True),
        target=MeterTerms(limit=1000, included=1000, overage_rate=0.15, hard=False),
        service="VERCEL_BANDWIDTH",
        reached_at=datetime(2026, 11, 14),
    )
    advice = advise(
        "vercel-team",
        PlanPrice("vercel-hobby", 0),
        PlanPrice("vercel-pro", 20),
        [reached],
        Stake(monthly_revenue=7200, revenue_share=0.5),
        NOV,
        datetime(2026, 11, 20),
    )
    assert advice.paused_since == datetime(2026, 11, 14)
    assert advice.mean.pause_probability == 1.0
    assert advice.mean.hours_degraded == 264  # Nov 20 .. Dec 1: the past pause is sunk
    assert advice.priority is Priority.CRITICAL
