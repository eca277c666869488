"""``python -m jobs recommend``, ``recommendations …`` and ``backtest``."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

from jobs import db, settings
from jobs.commands.options import MAX_DAYS, number, parse_now, text
from jobs.limits.loader import load as load_limits
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.recommend import engine, explain, review, store
from jobs.recommend.cases import service_cases
from jobs.recommend.evaluation import Rules
from jobs.recommend.forecast import forecast
from jobs.recommend.lifecycle import ACTIONS, OPEN, REASONS, Status
from jobs.usage import BillingPeriod


def register(commands: argparse._SubParsersAction) -> None:
    rec = commands.add_parser(
        "recommend", help="evaluate usage, forecast it and keep the upgrade recommendations"
    )
    _common(rec)
    rec.add_argument(
        "--for",
        dest="for_points",
        type=number(int, 0, 1000),
        default=2,
        help="collections a new state must hold before it is raised (default 2)",
    )
    rec.add_argument(
        "--stale-after-hours",
        type=number(float, 0, 24 * MAX_DAYS),
        default=36.0,
        help="a series with no newer point is NO_DATA (default 36)",
    )
    rec.add_argument(
        "--snooze-days",
        type=number(float, 0, MAX_DAYS),
        default=14.0,
        help="a dismissed advice stays quiet unless its priority rises (default 14)",
    )
    rec.add_argument(
        "--expire-after-days",
        type=number(float, 0, MAX_DAYS),
        default=3.0,
        help="open advice whose condition has not held this long expires (default 3)",
    )
    rec.add_argument(
        "--ttl-days",
        type=number(float, 0, MAX_DAYS),
        default=30.0,
        help="expiry date of a new recommendation (default 30)",
    )
    rec.add_argument(
        "--lookback-days",
        type=number(int, 0, MAX_DAYS),
        default=90,
        help="days of history a forecast may use (default 90)",
    )
    rec.set_defaults(run=_recommend)

    bt = commands.add_parser(
        "backtest", help="print each series' forecast methods and their measured errors"
    )
    _common(bt)
    bt.add_argument("--lookback-days", type=number(int, 0, MAX_DAYS), default=90)
    bt.set_defaults(run=_backtest)

    recs = commands.add_parser("recommendations", help="list, show and review recommendations")
    actions = recs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list recommendations (default: the open ones)")
    listing.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in Status],
        help="only these statuses (repeatable)",
    )
    listing.add_argument("--all", action="store_true", help="every status")
    listing.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="explain one recommendation")
    show.add_argument("id", type=text(100))
    show.set_defaults(run=_show)
    for action in ACTIONS:
        change = actions.add_parser(action, help=f"mark a recommendation {ACTIONS[action].value}")
        change.add_argument("id", type=text(100))
        change.add_argument(
            "--by", required=True, type=text(100), help="who decides (recorded in the history)"
        )
        change.add_argument("--note", type=text(), help="why, in a sentence")
        change.add_argument("--reason", choices=sorted(REASONS), help="reason code")
        change.set_defaults(run=_change, verb=action)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limits",
        type=Path,
        default=DEFAULT_LIMITS_FILE,
        help="the limits file (default: limits.yaml)",
    )
    parser.add_argument("--now", help="evaluate as of this UTC time (ISO 8601; default: now)")


def _recommend(args: argparse.Namespace) -> int:
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    config = engine.Settings(
        rules=Rules(args.for_points, timedelta(hours=args.stale_after_hours)),
        lookback=timedelta(days=args.lookback_days),
        snooze=timedelta(days=args.snooze_days),
        expire_after=timedelta(days=args.expire_after_days),
        ttl=timedelta(days=args.ttl_days),
    )
    with db.connect(settings.database().dsn) as conn:
        summary = engine.run(conn, service_cases(limits), config, now)
    print(explain.run_summary(summary))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    today = datetime.combine(now.date(), datetime.min.time())
    period = BillingPeriod.containing(now)
    with db.connect(settings.database().dsn) as conn:
        since = today - timedelta(days=args.lookback_days)
        daily = store.daily_series(conn, since, today, as_of=now)
    rows = []
    for case in service_cases(limits):
        for metric in sorted(case.current.metrics):
            fitted = engine.series_input(
                daily.get((case.service, metric), []), metric, period, today
            )
            if fitted is None:
                rows.append(f"{case.service} {metric}: no data")
                continue
            f = forecast(fitted[0], so_far=fitted[1], as_of=fitted[2], period_end=period.end)
            rows.append(explain.backtest_lines(case.service, metric, f))
    print("\n".join(rows) if rows else "no series to backtest")
    return 0


def _list(args: argparse.Namespace) -> int:
    statuses = (
        [s.value for s in Status] if args.all else args.status or sorted(s.value for s in OPEN)
    )
    with db.connect(settings.database().dsn) as conn:
        rows = store.list_recommendations(conn, statuses)
    if args.format == "json":
        print(json.dumps(rows, default=str, indent=2))
    elif args.format == "markdown":
        print(explain.recommendation_markdown(rows))
    else:
        print(explain.recommendation_table(rows))
    return 0


def _show(args: argparse.Namespace) -> int:
    with db.connect(settings.database().dsn) as conn:
        print(explain.describe(store.get_recommendation(conn, args.id)))
    return 0


def _change(args: argparse.Namespace) -> int:
    with db.connect(settings.database().dsn) as conn:
        entry = review.change_status(
            conn,
            args.id,
            args.verb,
            by=args.by,
            now=parse_now(None),
            note=args.note,
            reason=args.reason,
        )
    print(f"recommendation {args.id}: {entry.from_status} -> {entry.to_status} by {entry.by}")
    return 0
