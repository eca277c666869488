"""Words and evidence for a recommendation: the title, the reasoning, the evidence JSON
(the data window, points, methods, backtest errors and every formula input), and the
readable explanation `python -m jobs recommendations show ID` prints from it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jobs.recommend import advice as advice_rules
from jobs.recommend.advice import Advice, Business
from jobs.recommend.forecast import Forecast
from jobs.text import markdown
from jobs.usage import BillingPeriod

if TYPE_CHECKING:
    from jobs.recommend.engine import Assessment, RunSummary, Settings


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment else None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def forecast_evidence(f: Forecast) -> dict[str, Any]:
    return {
        "method": f.method,
        "window": {
            "from": f.first_day.isoformat() if f.first_day else None,
            "to": f.last_day.isoformat() if f.last_day else None,
            "days": f.points,
        },
        "asOf": _iso(f.as_of),
        "soFar": f.so_far,
        "mean": f.mean,
        "lower": f.lower,
        "upper": f.upper,
        "sigma": f.sigma,
        "band": "80%",
        "backtest": f.backtest.to_json() if f.backtest else None,
        "candidates": [b.to_json() for b in f.candidates],
    }


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def title(a: Advice) -> str:
    if a.risk_only:
        return f"Risk: {a.service} will hit a hard limit on {a.current.name}"
    return f"Upgrade {a.service} from {a.current.name} to {a.target.name}"


def reasoning(a: Advice, drivers: Sequence[Assessment]) -> str:
    parts = []
    for d in drivers:
        if d.forecast is None:
            continue
        limit = d.terms.terms.limit
        breach = d.breach_at
        kind = "hard limit" if d.terms.terms.hard else "allowance"
        parts.append(
            f"{d.metric_type} is at {d.so_far:,.4g} {d.terms.unit} and heads for "
            f"{d.forecast.mean:,.4g} (80% band {d.forecast.lower:,.4g} to {d.forecast.upper:,.4g}) "
            f"by {d.forecast.period_end:%Y-%m-%d}, against a {kind} of "
            f"{limit:,.4g}" + (f", reached around {breach:%Y-%m-%d}" if breach else "") + "."
        )
    m = a.mean
    parts.append(
        f"The upgrade costs {_money(a.delta_cost)} more per period; it avoids "
        f"{_money(m.overage_avoided)} of overage and {_money(m.revenue_at_risk)} of revenue at "
        f"risk, so ROI is {_ratio(m.roi)} at the forecast's mean and "
        f"{_ratio(a.upper.roi)} at its upper edge."
    )
    if a.risk_only:
        parts.append(
            "It does not pay for itself at the mean, but a hard limit would pause the feature: "
            "reported as a risk."
        )
    return " ".join(parts)


def _first_breach(drivers: Sequence[Assessment], *, hard_only: bool) -> datetime | None:
    """The earliest time a driving limit was (in the data) or will be (forecast) reached."""
    times = [d.breach_at for d in drivers if d.breach_at and (d.terms.terms.hard or not hard_only)]
    return min(times) if times else None


def confidence(drivers: Sequence[Assessment]) -> float:
    """How much the numbers can be trusted: the weakest driving forecast's measured band
    coverage (0.5 when it has no backtest yet), scaled down below four weeks of data."""
    scores = []
    for d in drivers:
        if d.forecast is None:
            continue
        coverage = d.forecast.backtest.coverage if d.forecast.backtest else 0.5
        scores.append(min(1.0, d.forecast.points / 28) * coverage)
    return round(min(scores), 3) if scores else 0.0


def recommendation_values(
    a: Advice,
    assessments: Sequence[Assessment],
    business: Business,
    period: BillingPeriod,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    drivers = [d for d in assessments if d.forecast is not None]
    evidence = {
        "generatedAt": _iso(now),
        "period": {"start": _iso(period.start), "end": _iso(period.end)},
        "metrics": {
            d.metric_type: {
                "state": d.evaluation.state.value,
                "stateSince": _iso(d.evaluation.since),
                "stateReason": d.evaluation.reason,
                "unit": d.terms.unit,
                "current": {
                    "limit": _finite(d.terms.terms.limit),
                    "included": d.terms.terms.included,
                    "overageRate": d.terms.terms.overage_rate,
                    "hard": d.terms.terms.hard,
                    "drawsCredit": d.terms.terms.draws_credit,
                },
                "thresholds": {
                    "warning": d.terms.thresholds.warning,
                    "critical": d.terms.thresholds.critical,
                    "resolve": d.terms.thresholds.resolve,
                },
                "forecast": forecast_evidence(d.forecast) if d.forecast else None,
            }
            for d in drivers
        },
        "business": {
            "monthlyRevenue": business.monthly_revenue,
            "revenueShare": business.revenue_share,
            "degradedHours": business.degraded_hours,
        },
        "advice": a.to_json(),
        "rules": {
            "criticalWithinDays": advice_rules.CRITICAL_WITHIN.days,
            "highWithinDays": advice_rules.HIGH_WITHIN.days,
            "highRoi": advice_rules.HIGH_ROI,
            "riskProbability": advice_rules.RISK_PROBABILITY,
            "forPoints": settings.rules.for_points,
            "staleAfterHours": settings.rules.stale_after.total_seconds() / 3600,
            "snoozeDays": settings.snooze.days,
            "expireAfterDays": settings.expire_after.days,
        },
    }
    m = a.mean
    return {
        "service": a.service,
        "current_plan": a.current.name,
        "recommended_plan": a.target.name,
        "priority": a.priority.value,
        "title": title(a),
        "reasoning": reasoning(a, drivers),
        "current_usage": {d.metric_type: d.so_far for d in drivers},
        "projected_usage": {d.metric_type: d.forecast.mean for d in drivers if d.forecast},
        "breach_at": _first_breach(drivers, hard_only=a.hard_breach_at is not None),
        "current_cost": a.current_cost,
        "projected_cost": m.projected_cost,
        "upgraded_cost": m.upgraded_cost,
        "overage_avoided": m.overage_avoided,
        "revenue_at_risk": m.revenue_at_risk,
        "roi": m.roi,
        "payback_days": m.payback_days,
        "confidence": confidence(drivers),
        "evidence": evidence,
        "now": now,
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}{(' ' + unit) if unit else ''}"
    return f"{value}{(' ' + unit) if unit else ''}"


def describe(row: dict[str, Any]) -> str:
    """A recommendation as a person reads it: why it exists, what it is worth, the data."""
    evidence = row.get("evidence") or {}
    lines = [
        f"{row['title']}",
        f"  id {row['id']} | {row['status']} | priority {row['priority']} | "
        f"confidence {row['confidence']:.0%}",
        f"  {row['service']}: {row['current_plan']} -> {row['recommended_plan']}",
        "",
        f"Why: {row['reasoning']}",
        "",
        "What it is worth (this billing period):",
        f"  cost now (price + overage so far)    {_money(row['current_cost'])}",
        f"  projected cost on the current plan   {_money(row['projected_cost'])}",
        f"  projected cost after the upgrade     {_money(row['upgraded_cost'])}",
        f"  overage avoided                      {_money(row['overage_avoided'])}",
        f"  revenue at risk avoided              {_money(row['revenue_at_risk'])}",
        f"  ROI (mean)                           {_ratio(row['roi'])}",
        "  payback                              "
        + ("n/a" if row["payback_days"] is None else f"{row['payback_days']:.1f} days"),
    ]
    advice = evidence.get("advice") or {}
    upper = advice.get("upper") or {}
    if upper:
        lines.append(
            f"  at the band's upper edge: overage avoided {_money(upper.get('overageAvoided'))}, "
            f"revenue at risk {_money(upper.get('revenueAtRisk'))}, ROI {_ratio(upper.get('roi'))}"
        )
    if row.get("breach_at"):
        lines.append(
            f"  projected breach                     {row['breach_at']:%Y-%m-%d %H:%M} UTC"
        )
    lines += ["", "The data and the formulas:"]
    for metric, m in (evidence.get("metrics") or {}).items():
        f = m.get("forecast") or {}
        window = f.get("window") or {}
        bt = f.get("backtest") or {}
        cur = m.get("current") or {}
        lines.append(f"  {metric} ({m.get('unit')}): {m.get('state')} - {m.get('stateReason')}")
        lines.append(
            f"    data {window.get('from')} .. {window.get('to')} ({window.get('days')} days); "
            f"so far {_fmt(f.get('soFar'))}; forecast {f.get('method')}: {_fmt(f.get('mean'))} "
            f"(80% band {_fmt(f.get('lower'))} .. {_fmt(f.get('upper'))})"
        )
        if bt:
            lines.append(
                f"    backtest over {bt.get('origins')} origins: MAE {_fmt(bt.get('mae'))}, "
                f"MASE {_fmt(bt.get('mase'))}, MAPE {_fmt(bt.get('mape'))}%, "
                f"band coverage {_ratio(bt.get('coverage'))}"
            )
        else:
            lines.append("    backtest: not enough history yet")
        lines.append(
            f"    current plan: limit {_fmt(cur.get('limit'))}, "
            f"included {_fmt(cur.get('included'))}, "
            f"overage ${_fmt(cur.get('overageRate'))}/{m.get('unit')}, "
            f"{'hard (pauses)' if cur.get('hard') else 'soft (billed)'}"
            + (", draws the usage credit" if cur.get("drawsCredit") else "")
        )
    if advice:
        b = evidence.get("business") or {}
        current, target = advice["currentPlan"], advice["targetPlan"]
        lines.append(
            f"  plans: {current['name']} {_money(current['monthlyPrice'])} -> "
            f"{target['name']} {_money(target['monthlyPrice'])} "
            f"(dC {_money(advice.get('deltaCost'))}); "
            f"revenue {_money(b.get('monthlyRevenue'))}/month, "
            f"share {_ratio(b.get('revenueShare'))}, degraded hours {_fmt(b.get('degradedHours'))}"
        )
        mean = advice.get("mean") or {}
        lines.append(
            f"  pause probability {_ratio(mean.get('pauseProbability'))}, hours degraded "
            f"{_fmt(mean.get('hoursDegraded'))}; upgrade cost C {_money(mean.get('upgradeCost'))} "
            "(dC + overage new on the target); ROI = (OA + RaR - C) / C"
        )
    history = row.get("review_history") or []
    lines += ["", "Review history:" if history else "Review history: none yet"]
    for h in history:
        lines.append(
            f"  {h['at']} {h['by']}: {h['from']} -> {h['to']}"
            + (f" ({h['reason']})" if h.get("reason") else "")
            + (f": {h['note']}" if h.get("note") else "")
        )
    return "\n".join(lines)


def backtest_lines(service: str, metric: str, f: Forecast) -> str:
    """One series: the chosen method and every candidate's measured errors."""
    head = f"{service} {metric}: {f.points} days ({f.first_day} .. {f.last_day}), chosen {f.method}"
    if not f.candidates:
        return head + " (not enough history for a backtest)"
    lines = [head, f"  {'method':<14}{'origins':>8}{'MAE':>12}{'MASE':>8}{'MAPE %':>9}{'cover':>7}"]
    for b in f.candidates:
        mark = "*" if b.method == f.method else " "
        lines.append(
            f" {mark}{b.method:<14}{b.origins:>8}{b.mae:>12.4g}"
            f"{_fmt(b.mase):>8}{_fmt(b.mape):>9}{b.coverage:>7.0%}"
        )
    return "\n".join(lines)


def recommendation_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no recommendations"
    lines = [f"{'id':<38}{'status':<10}{'priority':<10}{'roi':>7}  title"]
    for r in rows:
        lines.append(
            f"{r['id']:<38}{r['status']:<10}{r['priority']:<10}{_ratio(r['roi']):>7}  {r['title']}"
        )
    return "\n".join(lines)


def recommendation_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The list for a GitHub job summary; stable and short when there is nothing."""
    if not rows:
        return "### Upgrade recommendations\n\nNo open recommendations.\n"
    lines = [
        "### Upgrade recommendations",
        "",
        "| priority | status | recommendation | ROI | payback | breach | id |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for r in rows:
        payback = "n/a" if r["payback_days"] is None else f"{r['payback_days']:.1f} d"
        breach = f"{r['breach_at']:%Y-%m-%d}" if r.get("breach_at") else ""
        lines.append(
            f"| {r['priority']} | {r['status']} | {markdown(r['title'])} | {_ratio(r['roi'])} "
            f"| {payback} | {breach} | {markdown(r['id'])} |"
        )
    return "\n".join(lines) + "\n"


def run_summary(summary: RunSummary) -> str:
    """The terminal report of one recommend run."""
    lines = [f"period {summary.period.start:%Y-%m-%d} .. {summary.period.end:%Y-%m-%d}"]
    for a in summary.assessments:
        f = a.forecast
        lines.append(
            f"  {a.service:<26}{a.metric_type:<18}{a.evaluation.state.value:<9}"
            + (
                f"{a.evaluation.utilisation:>6.0%}"
                if a.evaluation.utilisation is not None
                else f"{'':>6}"
            )
            + (f"  forecast {f.mean:,.4g} ({f.method})" if f else "  no forecast")
        )
    for label, items in (
        (
            "created",
            [f"{i} {a.service} -> {a.target.name} ({a.priority})" for i, a in summary.created],
        ),
        (
            "refreshed",
            [f"{i} {a.service} -> {a.target.name} ({a.priority})" for i, a in summary.refreshed],
        ),
        ("snoozed", [f"{a.service} -> {a.target.name}" for a in summary.snoozed]),
        ("expired", list(summary.expired)),
        ("implemented", list(summary.implemented)),
    ):
        lines.append(f"{label}: {len(items)}" + "".join(f"\n  {item}" for item in items))
    return "\n".join(lines)
