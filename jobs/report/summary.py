"""The report's summary: states, breaches, open recommendations and totals. Pure.

The same numbers head the HTML report and make the Markdown for the GitHub job summary.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from jobs.limits.quantities import approximate, describe
from jobs.recommend.evaluation import State
from jobs.recommend.explain import bill_cell, bill_line
from jobs.recommend.records import Recommendation
from jobs.report.data import ReportData, SeriesView
from jobs.report.projects import AccountCosts, MeterProjects
from jobs.text import markdown as escape_markdown

SEVERITY_ORDER = (State.CRITICAL, State.WARNING, State.NO_DATA, State.OK)
PRIORITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


class Breach(enum.StrEnum):
    OVER = "over the limit"
    EXPECTED = "expected"  # the forecast's mean reaches the limit before period end
    POSSIBLE = "possible"  # only the 80 % band's upper edge reaches it


@dataclass(frozen=True)
class SeriesLine:
    """One assessed series, as the summary tables show it."""

    view: SeriesView
    state: State
    breach: Breach | None
    breach_at: datetime | None


@dataclass(frozen=True)
class Summary:
    data: ReportData
    lines: tuple[SeriesLine, ...]  # assessed series, most severe first
    states: dict[State, int]
    breaches: dict[Breach, int]  # series per kind of breach
    recommendations_by_priority: dict[str, int]
    overage_avoided: float
    revenue_at_risk: float
    spend: float

    @property
    def recommendations(self) -> tuple[Recommendation, ...]:
        return self.data.recommendations


def _breach(view: SeriesView) -> tuple[Breach | None, datetime | None]:
    a = view.assessment
    if a is None or a.state is State.NO_DATA:
        return None, None
    if a.usage is not None and a.usage >= a.limit:
        return Breach.OVER, a.breach_at
    if a.breach_at is not None:
        return Breach.EXPECTED, a.breach_at
    if a.breach_at_upper is not None:
        return Breach.POSSIBLE, a.breach_at_upper
    return None, None


def summarize(data: ReportData) -> Summary:
    lines = []
    for view in data.series:
        if view.assessment is None:
            continue
        breach, at = _breach(view)
        lines.append(SeriesLine(view, view.assessment.state, breach, at))
    rank = {state: i for i, state in enumerate(SEVERITY_ORDER)}
    lines.sort(key=lambda line: rank[line.state])
    states = Counter(line.state for line in lines)
    breaches = Counter(line.breach for line in lines if line.breach)
    priorities = Counter(r.priority.value for r in data.recommendations)
    return Summary(
        data=data,
        lines=tuple(lines),
        states={s: states[s] for s in SEVERITY_ORDER if states[s]},
        breaches={b: breaches[b] for b in Breach},
        recommendations_by_priority={p: priorities[p] for p in PRIORITY_ORDER if priorities[p]},
        overage_avoided=sum(r.overage_avoided for r in data.recommendations),
        revenue_at_risk=sum(r.revenue_at_risk for r in data.recommendations),
        spend=sum(data.costs.values()),
    )


# Formatting shared by the HTML page and the Markdown.


def money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def payback(days: float | None) -> str:
    return "n/a" if days is None else f"{days:,.1f} days"


def revenue_text(r: Recommendation) -> str:
    """Revenue at risk, or "unknown" when a pause is at stake but no revenue is set."""
    if r.evidence is not None and r.evidence.mean.revenue_unknown:
        return "unknown"
    return money(r.revenue_at_risk)


def usage_text(line: SeriesLine) -> str:
    a = line.view.assessment
    if a is None or a.usage is None:
        return "no data"
    return f"{approximate(a.usage, a.metric_type)} ({percent(a.utilisation)})"


def limit_text(line: SeriesLine) -> str:
    a = line.view.assessment
    assert a is not None
    hard = " (hard)" if line.view.limit and line.view.limit.hard else ""
    return f"{describe(a.limit, a.metric_type)}{hard}"


def forecast_text(line: SeriesLine) -> str:
    a = line.view.assessment
    if a is None or a.forecast_mean is None:
        return "none"
    band = ""
    if a.forecast_lower is not None and a.forecast_upper is not None:
        band = (
            f" ({approximate(a.forecast_lower, a.metric_type)} to "
            f"{approximate(a.forecast_upper, a.metric_type)})"
        )
    reliability = f"; {a.band_text}" if a.band_text else ""
    return approximate(a.forecast_mean, a.metric_type) + band + reliability


def breach_text(line: SeriesLine) -> str:
    if line.breach is None:
        return ""
    if line.breach is Breach.OVER:
        return str(Breach.OVER)
    return f"{line.breach} {day(line.breach_at)}"


def project_cost_rows(costs: AccountCosts) -> list[tuple[str, str, str, str]]:
    """An account's "Cost per project" table as plain text (callers escape): project, cost,
    billed, share; then the account's total."""
    rows = [(p.label, money(p.value), money(p.billed), percent(p.share)) for p in costs.projects]
    whole = percent(1.0 if costs.total > 0 else None)  # as the parts: no share of nothing
    return [*rows, ("total", money(costs.total), money(costs.billed), whole)]


def meter_project_rows(meter: MeterProjects) -> list[tuple[str, str, str]]:
    """A meter's top projects as plain text (callers escape): project, usage, share."""
    shares = [*meter.top, *([meter.rest] if meter.rest else [])]
    return [
        (
            p.label,
            approximate(p.value, meter.metric_type),
            "" if p.share is None else percent(p.share),
        )
        for p in shares
    ]


def headline(summary: Summary) -> str:
    states = ", ".join(f"{n} {s}" for s, n in summary.states.items()) or "none assessed"
    return f"{len(summary.lines)} series: {states}"


def bullets(summary: Summary) -> list[str]:
    """The summary in a few sentences, as plain text (callers escape or format)."""
    b = summary.breaches
    recs = summary.recommendations
    by_priority = ", ".join(f"{n} {p}" for p, n in summary.recommendations_by_priority.items())
    return [
        f"States: {headline(summary)}",
        f"Breaches: {b[Breach.OVER]} over the limit, {b[Breach.EXPECTED]} expected before "
        f"the period ends, {b[Breach.POSSIBLE]} possible at the band's upper edge",
        f"Open recommendations: {len(recs)}"
        + (f" ({by_priority})" if by_priority else "")
        + f"; overage avoided {money(summary.overage_avoided)}, revenue at risk "
        f"{money(summary.revenue_at_risk)}",
        f"Spend so far this period: {money(summary.spend)}",
        *(f"Plan mismatch: {m.message}" for m in summary.data.money.mismatches),
        *(
            f"Bill of {b.account} this period: {bill_line(b.mean, b.upper)}"
            for b in summary.data.money.bills
        ),
        *(f"Budget: {b.message}" for b in summary.data.money.budgets),
    ]


def title(data: ReportData) -> str:
    return (
        f"Usage report {data.period.start:%Y-%m-%d} .. {data.period.end:%Y-%m-%d} "
        f"as of {data.now:%Y-%m-%d %H:%M} UTC"
    )


def _cell(text: str) -> str:
    """Our own text (it may hold Markdown) inside a table cell."""
    return text.replace("|", "\\|")


def markdown(summary: Summary) -> str:
    """The summary for ``$GITHUB_STEP_SUMMARY`` (and ``--markdown FILE``)."""
    out = [f"### {title(summary.data)}", ""]
    out += [f"- {line}" for line in bullets(summary)]
    shown = [line for line in summary.lines if line.state is not State.OK]
    if shown:
        out += [
            "",
            "| state | service / metric | plan | usage | limit | forecast at period end "
            "(80 % band) | breach |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {line.state} | `{line.view.service}/{line.view.metric_type}` "
            f"| {escape_markdown(line.view.plan or '')} | {usage_text(line)} | "
            + " | ".join(
                escape_markdown(text)
                for text in (
                    limit_text(line) if line.view.assessment else "",
                    forecast_text(line),
                    breach_text(line),
                )
            )
            + " |"
            for line in shown
        ]
    if summary.recommendations:
        out += [
            "",
            "| priority | recommendation | status | bill now -> after (upper edge) | ROI "
            "| payback | overage avoided | revenue at risk |",
            "|---|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r.priority} | {escape_markdown(r.title)} | {r.status} | {bill_cell(r)} "
            f"| {_cell(r.roi_text)} | {payback(r.payback_days)} | {money(r.overage_avoided)} "
            f"| {revenue_text(r)} |"
            for r in summary.recommendations
        ]
    out += _markdown_projects(summary.data)
    return "\n".join(out) + "\n\n"


def _markdown_projects(data: ReportData) -> list[str]:
    out = []
    for costs in data.project_costs:
        out += [
            "",
            f"#### Cost per project: {escape_markdown(costs.account)}",
            "",
            "| project | cost | billed | share |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {escape_markdown(label)} | {cost} | {billed} | {share} |"
            for label, cost, billed, share in project_cost_rows(costs)
        ]
    if data.meter_projects:
        out += ["", "#### Top projects per limited meter", ""]
        out += ["| meter | project | usage | share |", "|---|---|---|---|"]
        out += [
            f"| `{meter.service}/{meter.metric_type}` | {escape_markdown(label)} | {usage} "
            f"| {share} |"
            for meter in data.meter_projects
            for label, usage, share in meter_project_rows(meter)
        ]
    return out
