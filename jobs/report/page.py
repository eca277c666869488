"""The report as one self-contained HTML file: inline CSS, charts as inline SVG, no
JavaScript, no request to any other place, so it opens anywhere (an artifact, a mail).
Pure: report data in, HTML text out. Every text from data is escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from jobs.limits.quantities import approximate, describe
from jobs.recommend.evaluation import State
from jobs.recommend.explain import bill_cell
from jobs.report import charts
from jobs.report.data import SeriesView
from jobs.report.summary import (
    Summary,
    breach_text,
    bullets,
    day,
    forecast_text,
    limit_text,
    meter_project_rows,
    money,
    payback,
    percent,
    project_cost_rows,
    revenue_text,
    title,
    usage_text,
)

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; background: #fff; margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #666; margin: 0 0 16px; }
ul.summary { background: #f6f8fb; border: 1px solid #dde3ee; border-radius: 6px;
             padding: 12px 12px 12px 32px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee;
         vertical-align: top; }
th { background: #fafafa; }
td.num { text-align: right; white-space: nowrap; }
.state { font-weight: 600; border-radius: 3px; padding: 1px 6px; white-space: nowrap; }
.CRITICAL { background: #fde3dc; color: #9b1c00; }
.WARNING { background: #fff1c7; color: #7a5200; }
.NO_DATA { background: #eceff3; color: #4a5565; }
.OK { background: #e2f4e6; color: #1d6b33; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));
          gap: 16px; }
figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; margin-bottom: 4px; }
figcaption .detail { color: #555; display: block; }
footer { color: #888; font-size: 12px; margin-top: 32px; }
"""


def _state(state: State | str) -> str:
    value = str(state)
    return f'<span class="state {escape(value)}">{escape(value)}</span>'


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], numeric: set[int]) -> str:
    """A table; cells are HTML already (callers escape text)."""
    out = ["<table><thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _states_table(summary: Summary) -> str:
    if not summary.lines:
        return (
            "<p>No series has been assessed this period: run "
            "<code>python -m jobs recommend</code>.</p>"
        )
    return _table(
        ["state", "service / metric", "plan", "usage", "limit", "forecast (80 % band)", "breach"],
        (
            [
                _state(line.state),
                f"<code>{escape(line.view.service)}/{escape(line.view.metric_type)}</code>",
                escape(line.view.plan or ""),
                escape(usage_text(line)),
                escape(limit_text(line)),
                escape(forecast_text(line)),
                escape(breach_text(line)),
            ]
            for line in summary.lines
        ),
        numeric={3},
    )


def _recommendations(summary: Summary) -> str:
    if not summary.recommendations:
        return "<p>No open recommendation.</p>"
    return _table(
        [
            "priority",
            "recommendation",
            "status",
            "bill now -> after (upper edge)",
            "ROI",
            "payback",
            "overage avoided",
            "revenue at risk",
            "limit reached",
        ],
        (
            [
                _state(r.priority) if r.priority == "CRITICAL" else escape(r.priority),
                f"{escape(r.title)}<br><small>{escape(r.subject)}: {escape(r.current_plan)} "
                f"&rarr; {escape(r.recommended_plan)} &middot; <code>{escape(r.id)}</code></small>",
                escape(r.status),
                escape(bill_cell(r)),
                escape(r.roi_text),
                escape(payback(r.payback_days)),
                escape(money(r.overage_avoided)),
                escape(revenue_text(r)),
                escape(day(r.breach_at)),
            ]
            for r in summary.recommendations
        ),
        numeric={4, 5, 6},
    )


def _caption(view: SeriesView) -> str:
    name = f"{escape(view.service)} &middot; {escape(view.metric_type)}"
    plan = f" on {escape(view.plan)}" if view.plan else ""
    a = view.assessment
    details = []
    if a is not None:
        details.append(_state(a.state))
        if a.usage is not None:
            details.append(
                escape(
                    f"{approximate(a.usage, a.metric_type)}, {percent(a.utilisation)} of "
                    f"{describe(a.limit, a.metric_type)}"
                )
            )
        if a.forecast_mean is not None:
            details.append(
                escape(
                    f"period end: {approximate(a.forecast_mean, a.metric_type)} "
                    f"(80 % band {approximate(a.forecast_lower or 0, a.metric_type)} to "
                    f"{approximate(a.forecast_upper or 0, a.metric_type)}, {a.method}"
                    + (f"; {a.band_text})" if a.band_text else ")")
                )
            )
    elif view.limit is None:
        details.append("no limit on this plan")
    return (
        f"<figcaption><strong>{name}</strong>{plan}"
        f'<span class="detail">{" &middot; ".join(details)}</span></figcaption>'
    )


def _charts(summary: Summary) -> str:
    data = summary.data
    drawn = [v for v in data.series if v.has_data]
    silent = [v for v in data.series if not v.has_data]
    out = ['<div class="charts">']
    for view in drawn:
        label = f"{view.service} {view.metric_type}: usage against its limits, with the forecast"
        out.append(
            f'<figure id="chart-{escape(view.key)}" role="img" aria-label="{escape(label)}">'
            f"{_caption(view)}{charts.svg(view, data.period, data.now)}</figure>"
        )
    out.append("</div>")
    if silent:
        out.append(
            "<h3>Limited, but no data this period</h3><ul>"
            + "".join(
                f'<li id="nodata-{escape(v.key)}"><code>{escape(v.service)}/'
                f"{escape(v.metric_type)}</code> on {escape(v.plan or '')}: limit "
                f"{escape(describe(v.limit.value, v.metric_type)) if v.limit else 'none'}</li>"
                for v in silent
            )
            + "</ul>"
        )
    return "".join(out)


def _costs(summary: Summary) -> str:
    costs = summary.data.costs
    if not costs:
        return "<p>No cost collected this period.</p>"
    rows = [[f"<code>{escape(s)}</code>", escape(money(v))] for s, v in costs.items()]
    rows.append(["<strong>total</strong>", f"<strong>{escape(money(summary.spend))}</strong>"])
    return _table(["service", "spend so far"], rows, numeric={1})


def _projects(summary: Summary) -> str:
    data = summary.data
    out = [] if data.project_costs else ["<p>No cost collected this period.</p>"]
    for costs in data.project_costs:
        rows = [[escape(cell) for cell in row] for row in project_cost_rows(costs)]
        rows[-1] = [f"<strong>{cell}</strong>" for cell in rows[-1]]
        out.append(f"<h3>{escape(costs.account)}</h3>")
        out.append(_table(["project", "cost", "billed", "share"], rows, numeric={1, 2, 3}))
    if data.meter_projects:
        out.append("<h3>Top projects per limited meter</h3>")
        out.append(
            _table(
                ["meter", "project", "usage", "share"],
                (
                    [
                        f"<code>{escape(meter.service)}/{escape(meter.metric_type)}</code>",
                        *(escape(cell) for cell in row),
                    ]
                    for meter in data.meter_projects
                    for row in meter_project_rows(meter)
                ),
                numeric={2, 3},
            )
        )
    return "".join(out)


def render(summary: Summary) -> str:
    data = summary.data
    heading = title(data)
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>",
            f"<h1>Infrastructure usage</h1><p class='meta'>{escape(heading)}</p>",
            '<ul class="summary" id="summary">',
            *(f"<li>{escape(line)}</li>" for line in bullets(summary)),
            "</ul>",
            '<h2 id="recommendations">Open recommendations</h2>',
            _recommendations(summary),
            '<h2 id="charts">Usage against limits, with the forecast to period end</h2>',
            _charts(summary),
            '<h2 id="states">Every assessed series</h2>',
            _states_table(summary),
            '<h2 id="costs">Spend this period</h2>',
            _costs(summary),
            '<h2 id="projects">Cost per project</h2>',
            _projects(summary),
            "<footer>Generated by <code>python -m jobs report</code>. Usage so far and the "
            "limits come from the database and limits.yaml; states and forecasts from the "
            "last <code>python -m jobs recommend</code> run; the forecast lines are "
            "recomputed as of the report's time.</footer>",
            "</body></html>\n",
        ]
    )
