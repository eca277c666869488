"""One chart per series, drawn by matplotlib as SVG to inline in the report.

Only the object-oriented API is used (``Figure``, no pyplot), so no GUI backend is ever
loaded. Text is drawn as paths, so the SVG needs no font on the reader's machine. Every
``id`` in a chart is prefixed with the series' key, so many charts can live in one HTML
document without their ids (clip paths, glyphs) colliding. The drawn elements carry ids
of their own (``<key>-usage``, ``-forecast``, ``-band``, ``-warning``, ``-critical``,
``-limit``, ``-now``), so a reader or a test can find each line.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import matplotlib
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from jobs.report.data import SeriesView
from jobs.usage import BillingPeriod

COLOURS = {
    "usage": "#1f4e9c",
    "forecast": "#6b8fd6",
    "band": "#c9d7f2",
    "poor-band": "#f2d9c9",
    "poor-hatch": "#d0895c",
    "warning": "#d99a00",
    "critical": "#e0542e",
    "limit": "#b00020",
    "now": "#777777",
}
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_IDS = re.compile(r'(\bid="|href="#|url\(#)')


def tick(value: float, _position: object = None) -> str:
    """Axis numbers without exponents: 1.5K, 20M, 0.25."""
    for suffix, factor in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= factor:
            return f"{value / factor:g}{suffix}"
    return f"{value:g}"


def _forecast_line(
    view: SeriesView, period: BillingPeriod
) -> tuple[list[datetime], list[float], list[float], list[float]] | None:
    """The forecast from where it stands to period end: times, mean, band's lower/upper."""
    f = view.forecast
    if f is None or not f.path:
        return None
    times, mean, lower, upper = [f.as_of], [f.so_far], [f.so_far], [f.so_far]
    for start, m, lo, hi in zip(f.day_starts, f.path, f.path_lower, f.path_upper, strict=True):
        end = start + timedelta(days=1)  # the path is each day's value at its end
        if end > period.end:
            break
        times.append(end)
        mean.append(m)
        lower.append(lo)
        upper.append(hi)
    return times, mean, lower, upper


def _draw(view: SeriesView, period: BillingPeriod, now: datetime) -> Figure:
    fig = Figure(figsize=(7.2, 3.1), layout="constrained")
    ax = fig.subplots()
    if view.points:
        times, values = zip(*view.points, strict=True)
        ax.plot(
            mdates.date2num(times),
            values,
            color=COLOURS["usage"],
            linewidth=2,
            marker="o",
            markersize=2.5,
            label="usage so far" if view.cumulative else "level",
            gid="usage",
        )
    projected = _forecast_line(view, period)
    if projected:
        times_f, mean, lower, upper = projected
        band = view.forecast.band if view.forecast else None
        poor = band is not None and (band.poor or not band.calibrated)
        # A band that did not hold (or could not be checked) is hatched and says so.
        ax.fill_between(
            mdates.date2num(times_f),
            lower,
            upper,
            facecolor=COLOURS["poor-band" if poor else "band"],
            edgecolor=COLOURS["poor-hatch" if poor else "band"],  # the hatch's colour
            hatch="///" if poor else None,
            linewidth=0,
            label=band.short() if band else "80 % band",
            gid="band",
        )
        ax.plot(
            mdates.date2num(times_f),
            mean,
            color=COLOURS["forecast"],
            linestyle="--",
            gid="forecast",
            label="forecast",
        )
    if view.limit is not None:
        lines = view.limit
        for value, colour, style, label in (
            (lines.value * lines.warning, "warning", ":", f"warning {lines.warning:.0%}"),
            (lines.value * lines.critical, "critical", "-.", f"critical {lines.critical:.0%}"),
            (lines.value, "limit", "-", "hard limit" if lines.hard else "limit"),
        ):
            ax.axhline(
                value, color=COLOURS[colour], linestyle=style, lw=1.3, label=label, gid=colour
            )
    if period.start <= now <= period.end:
        ax.axvline(float(mdates.date2num(now)), color=COLOURS["now"], linewidth=0.8, gid="now")
    ax.set_xlim(float(mdates.date2num(period.start)), float(mdates.date2num(period.end)))
    ax.set_ylim(bottom=0)
    ax.set_ylabel(view.unit)
    ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.yaxis.set_major_formatter(FuncFormatter(tick))
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside lower center", fontsize=7, frameon=False, ncols=6)
    return fig


def svg(view: SeriesView, period: BillingPeriod, now: datetime) -> str:
    """The chart of ``view`` as an ``<svg>`` element, ready to inline."""
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": view.key, "font.size": 8}):
        buffer = io.StringIO()
        _draw(view, period, now).savefig(buffer, format="svg", metadata={"Date": None})
    text = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    return _IDS.sub(lambda m: f"{m[1]}{view.key}-", text)
