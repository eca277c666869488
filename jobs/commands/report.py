"""``python -m jobs report``: the HTML report with charts, and its summary as Markdown."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from jobs import db, settings
from jobs.commands.options import MAX_DAYS, number, parse_now
from jobs.limits.loader import load as load_limits
from jobs.outputs import append_step_summary, check_writable, write_atomically
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.report import data, page, summary


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="write an HTML report with charts of usage, limits, forecasts and recommendations",
        description=(
            "Write one self-contained HTML file (inline CSS and SVG charts, no JavaScript, "
            "no network) with a summary, each series' usage against its warning, critical "
            "and limit lines with the forecast and its 80 %% band to period end, and the open "
            "recommendations. The summary is also written as Markdown (--markdown FILE, and "
            "appended to $GITHUB_STEP_SUMMARY when set)."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("report.html"),
        metavar="FILE",
        help="the HTML file to write (default: report.html)",
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the summary here")
    parser.add_argument(
        "--limits",
        type=Path,
        default=DEFAULT_LIMITS_FILE,
        help="the limits file (default: limits.yaml)",
    )
    parser.add_argument("--now", help="report as of this UTC time (ISO 8601; default: now)")
    parser.add_argument(
        "--lookback-days",
        type=number(int, 0, MAX_DAYS),
        default=90,
        help="days of history the forecasts use (default 90, as recommend)",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    # Refuse bad destinations before any work, so nothing is half done.
    check_writable(args.out, "--out")
    if args.markdown is not None:
        check_writable(args.markdown, "--markdown")
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    with db.connect(settings.database().dsn) as conn:
        gathered = data.gather(conn, limits, now, timedelta(days=args.lookback_days))
    result = summary.summarize(gathered)
    html = page.render(result)
    markdown = summary.markdown(result)
    write_atomically(args.out, html, "--out")
    if args.markdown is not None:
        write_atomically(args.markdown, markdown, "--markdown")
    append_step_summary(markdown)
    charts = sum(1 for view in gathered.series if view.has_data)
    print(f"report: {args.out.resolve()} ({charts} charts; {summary.headline(result)})")
    return 0
