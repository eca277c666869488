"""Recommendations as people read them: the explanation `python -m jobs recommendations
show ID` prints, the review table, the Markdown for a job summary, the bill on each plan,
and the terminal report of a run. Pure text from ``records.Recommendation``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs import formats
from jobs.recommend.bill import Bill
from jobs.recommend.forecast import Forecast, band_text
from jobs.recommend.records import Evidence, Recommendation, RunSummary
from jobs.text import markdown


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}{(' ' + unit) if unit else ''}"
    return f"{value}{(' ' + unit) if unit else ''}"


def bill_line(mean: Bill, upper: Bill) -> str:
    """One plan's projected bill for the period, at the forecast's mean and upper edge."""
    credit = (
        f" (credit drawn {_money(mean.credit_drawn)} of {_money(mean.credit)})"
        if mean.credit
        else ""
    )
    paused = f"; pauses {', '.join(mean.paused)}" if mean.paused else ""
    return (
        f"{mean.plan}: {_money(mean.total)} (upper edge {_money(upper.total)}) = base "
        f"{_money(mean.base)}{credit} + on-demand {_money(mean.on_demand)}{paused}"
    )


def bill_lines(e: Evidence) -> list[str]:
    """The bill on the current plan and on the target, each meter's charge on both."""
    lines = [
        "  " + bill_line(e.mean.current_bill, e.upper.current_bill),
        "  " + bill_line(e.mean.target_bill, e.upper.target_bill),
    ]
    target = {m.meter: m for m in e.mean.target_bill.meters}
    for m in e.mean.current_bill.meters:
        if not (m.charge or m.paused or (m.meter in target and target[m.meter].charge)):
            continue
        on_target = target.get(m.meter)
        lines.append(
            f"    {m.meter}: {_fmt(m.usage)} -> "
            + ("paused" if m.paused else _money(m.charge))
            + (" (credit)" if m.draws_credit else "")
            + f" on {e.current.name}; "
            + (_money(on_target.charge) if on_target else "not metered")
            + (" (credit)" if on_target and on_target.draws_credit else "")
            + f" on {e.target.name}"
        )
    return lines


def describe(rec: Recommendation) -> str:
    """A recommendation as a person reads it: why it exists, what it is worth, the data."""
    e = rec.evidence
    lines = [
        rec.title,
        f"  id {rec.id} | {rec.status} | priority {rec.priority} | confidence {rec.confidence:.0%}",
        f"  {rec.subject}: {rec.current_plan} -> {rec.recommended_plan}",
        "",
        f"Why: {rec.reasoning}",
        "",
        "What it is worth (this billing period):",
        f"  cost now (price + overage so far)    {_money(rec.current_cost)}",
        f"  projected cost on the current plan   {_money(rec.projected_cost)}",
        f"  projected cost after the upgrade     {_money(rec.upgraded_cost)}",
        f"  overage avoided                      {_money(rec.overage_avoided)}",
        "  revenue at risk avoided              "
        + ("unknown" if e is not None and e.mean.revenue_unknown else _money(rec.revenue_at_risk)),
        f"  ROI (mean)                           {rec.roi_text}",
        "  payback                              "
        + ("n/a" if rec.payback_days is None else f"{rec.payback_days:.1f} days"),
    ]
    if e is None:
        lines += ["", "(evidence written by an older version: numbers above only)"]
    else:
        upper = e.upper
        if not upper.revenue_unknown:
            lines.append(
                f"  at the band's upper edge: overage avoided {_money(upper.overage_avoided)}, "
                f"revenue at risk {_money(upper.revenue_at_risk)}, ROI {_ratio(upper.roi)}"
            )
    if rec.breach_at:
        lines.append(f"  projected breach                     {rec.breach_at:%Y-%m-%d %H:%M} UTC")
    if rec.awaiting_bill:
        lines += ["", f"Not implemented yet: {rec.awaiting_bill}"]
    if e is None:
        return "\n".join(lines + _history(rec))
    if e.plan_mismatch:
        lines += ["", f"Plan mismatch: {e.plan_mismatch}"]
    lines += ["", "The bill on each plan (this period, forecast mean and upper edge):"]
    lines += bill_lines(e)
    lines += ["", "The data and the formulas:"]
    for m in e.meters:
        f = m.forecast or {}
        window = f.get("window") or {}
        bt = f.get("backtest") or {}
        cur = m.current
        lines.append(f"  {m.meter} ({m.unit}): {m.state} - {m.state_reason}")
        lines.append(
            f"    data {window.get('from')} .. {window.get('to')} ({window.get('days')} days); "
            f"so far {_fmt(f.get('soFar'))}; forecast {f.get('method')}: {_fmt(f.get('mean'))} "
            f"(80% band {_fmt(f.get('lower'))} .. {_fmt(f.get('upper'))})"
        )
        lines.append(f"    {band_text(f.get('bandReliability'))}")
        if bt:
            lines.append(
                f"    backtest of the period-end value over {bt.get('origins')} origins: "
                f"MAE {_fmt(bt.get('mae'))}, MAPE {_fmt(bt.get('mape'))}%, "
                f"MAE vs the baseline {_ratio(bt.get('relativeMae'))}"
            )
        else:
            lines.append("    backtest: not enough history yet")
        limit = None if cur.limit == float("inf") else cur.limit
        lines.append(
            f"    current plan: limit {_fmt(limit)}, "
            f"included {_fmt(cur.included)}, "
            f"overage ${_fmt(cur.overage_rate)}/{m.unit}, "
            f"{'hard (pauses)' if cur.hard else 'soft (billed)'}"
            + (", draws the usage credit" if cur.draws_credit else "")
        )
    b = e.business
    lines.append(
        f"  plans: {e.current.name} {_money(e.current.monthly_price)} -> "
        f"{e.target.name} {_money(e.target.monthly_price)} "
        f"(dC {_money(e.target.monthly_price - e.current.monthly_price)}); "
        f"revenue {_money(b.monthly_revenue)}/month, "
        f"share {_ratio(b.revenue_share)}, degraded hours {_fmt(b.degraded_hours)}"
    )
    lines.append(
        f"  pause probability {_ratio(e.mean.pause_probability)} (one pause for the account), "
        f"hours degraded {_fmt(e.mean.hours_degraded)}; upgrade cost C "
        f"{_money(e.mean.upgrade_cost)} (dC + overage new on the target); ROI = (OA + RaR - C) / C"
    )
    return "\n".join(lines + _history(rec))


def _history(rec: Recommendation) -> list[str]:
    lines = ["", "Review history:" if rec.review_history else "Review history: none yet"]
    for h in rec.review_history:
        lines.append(
            f"  {h.at.isoformat(timespec='seconds')} {h.by}: {h.from_status} -> {h.to_status}"
            + (f" ({h.reason})" if h.reason else "")
            + (f": {h.note}" if h.note else "")
        )
    return lines


def backtest_lines(service: str, metric: str, f: Forecast) -> str:
    """One series: the chosen method and every candidate's measured errors."""
    head = (
        f"{service} {metric}: {f.points} days ({f.first_day} .. {f.last_day}), chosen {f.method}; "
        f"period end {f.mean:,.4g} ({f.band.text()}: {f.lower:,.4g} to {f.upper:,.4g})"
    )
    if not f.candidates:
        return head + " (not enough history for a backtest)"
    table = formats.table(
        (" method", "origins", "MAE", "MAPE %", "vs base", "cover"),
        [
            (
                ("*" if b.method == f.method else " ") + b.method,  # * marks the chosen one
                b.origins,
                f"{b.mae:.4g}",
                _fmt(b.mape),
                _ratio(b.relative_mae),
                _ratio(b.coverage),
            )
            for b in f.candidates
        ],
        right=(1, 2, 3, 4, 5),
    )
    return "\n".join([head, *(f" {line}" for line in table.splitlines())])


def _roi_short(r: Recommendation) -> str:
    return "unknown" if r.roi is None and r.roi_text != "n/a" else r.roi_text


def recommendation_table(rows: Sequence[Recommendation]) -> str:
    if not rows:
        return "no recommendations"
    return formats.table(
        ("id", "status", "priority", "roi", "title"),
        [(r.id, r.status, r.priority, _roi_short(r), r.title) for r in rows],
        right=(3,),
    ).rstrip("\n")


def bill_cell(r: Recommendation) -> str:
    """The bill on the current plan -> the target, at the forecast's mean (upper edge)."""
    e = r.evidence
    if e is None:
        return f"{_money(r.projected_cost)} -> {_money(r.upgraded_cost)}"
    return (
        f"{_money(e.mean.current_bill.total)} ({_money(e.upper.current_bill.total)}) -> "
        f"{_money(e.mean.target_bill.total)} ({_money(e.upper.target_bill.total)})"
    )


def recommendation_markdown(rows: Sequence[Recommendation]) -> str:
    """The list for a GitHub job summary; stable and short when there is nothing."""
    if not rows:
        return "### Upgrade recommendations\n\nNo open recommendations.\n"
    lines = [
        "### Upgrade recommendations",
        "",
        "| priority | status | recommendation | bill now -> after (upper edge) | ROI | payback "
        "| breach | id |",
        "|---|---|---|---|---:|---:|---|---|",
    ]
    for r in rows:
        payback = "n/a" if r.payback_days is None else f"{r.payback_days:.1f} d"
        breach = f"{r.breach_at:%Y-%m-%d}" if r.breach_at else ""
        lines.append(
            f"| {r.priority} | {r.status} | {markdown(r.title)} | {bill_cell(r)} | {r.roi_text} "
            f"| {payback} | {breach} | {markdown(r.id)} |"
        )
    return "\n".join(lines) + "\n"


def run_summary(summary: RunSummary) -> str:
    """The terminal report of one recommend run."""
    lines = [f"period {summary.period.start:%Y-%m-%d} .. {summary.period.end:%Y-%m-%d}"]
    rows = [
        (
            a.service,
            a.metric_type,
            a.evaluation.state.value,
            "" if a.evaluation.utilisation is None else f"{a.evaluation.utilisation:.0%}",
            (
                f"forecast {a.forecast.mean:,.4g} ({a.forecast.method})"
                if a.forecast
                else "no forecast"
            ),
        )
        for a in summary.assessments
    ]
    if rows:
        table = formats.table(("service", "metric", "state", "used", "outlook"), rows, right=(3,))
        lines += [f"  {line}" for line in table.splitlines()]
    for label, items in (
        (
            "created",
            [f"{i} {a.account} -> {a.target.name} ({a.priority})" for i, a in summary.created],
        ),
        (
            "refreshed",
            [f"{i} {a.account} -> {a.target.name} ({a.priority})" for i, a in summary.refreshed],
        ),
        ("snoozed", [f"{a.account} -> {a.target.name}" for a in summary.snoozed]),
        ("expired", list(summary.expired)),
        ("implemented", list(summary.implemented)),
        ("superseded", list(summary.superseded)),
    ):
        lines.append(f"{label}: {len(items)}" + "".join(f"\n  {item}" for item in items))
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)
