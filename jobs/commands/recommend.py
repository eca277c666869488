"""``python -m jobs recommend``, ``recommendations …`` and ``backtest``."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from jobs import db, formats, settings
from jobs.commands import gitops
from jobs.commands.options import (
    MAX_DAYS,
    days,
    hours,
    lookback_days,
    number,
    parse_now,
    shared,
    text,
)
from jobs.limits.loader import load as load_limits
from jobs.recommend import engine, explain, money, review, store
from jobs.recommend.assess import Settings, forecast_days
from jobs.recommend.cases import account_cases
from jobs.recommend.evaluation import Rules
from jobs.recommend.lifecycle import ACTIONS, OPEN, REASONS, Status
from jobs.usage import BillingPeriod

# The defaults live in engine.Settings (and evaluation.Rules); the options only show them.
DEFAULTS = engine.Settings()


def register(commands: argparse._SubParsersAction) -> None:
    rec = commands.add_parser(
        "recommend", help="evaluate usage, forecast it and keep the upgrade recommendations"
    )
    _common(rec)
    rec.add_argument(
        "--for",
        dest="for_points",
        type=number(int, 0, 1000),
        default=DEFAULTS.rules.for_points,
        metavar="N",
        help=f"collections a new state must hold before it is raised (default "
        f"{DEFAULTS.rules.for_points})",
    )
    rec.add_argument(
        "--no-data-after-hours",
        type=number(float, 0, 24 * MAX_DAYS),
        default=hours(DEFAULTS.rules.stale_after),
        metavar="H",
        help="a series whose newest point is older than this is NO_DATA (default "
        f"{hours(DEFAULTS.rules.stale_after):g})",
    )
    rec.add_argument(
        "--snooze-days",
        type=number(float, 0, MAX_DAYS),
        default=days(DEFAULTS.snooze),
        metavar="D",
        help=f"a dismissed advice stays quiet unless its priority rises (default "
        f"{days(DEFAULTS.snooze):g})",
    )
    rec.add_argument(
        "--expire-after-days",
        type=number(float, 0, MAX_DAYS),
        default=days(DEFAULTS.expire_after),
        metavar="D",
        help=f"open advice whose condition has not held this long expires (default "
        f"{days(DEFAULTS.expire_after):g})",
    )
    rec.add_argument(
        "--ttl-days",
        type=number(float, 0, MAX_DAYS),
        default=days(DEFAULTS.ttl),
        metavar="D",
        help=f"expiry date of a new recommendation (default {days(DEFAULTS.ttl):g})",
    )
    lookback_days(rec, DEFAULTS.lookback)
    rec.set_defaults(run=_recommend)

    bt = commands.add_parser(
        "backtest", help="print each series' forecast methods and their measured errors"
    )
    _common(bt)
    lookback_days(bt, DEFAULTS.lookback)
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
    listing.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text: an aligned table; json: for scripts; markdown: for a GitHub summary "
        "(default: text)",
    )
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="explain one recommendation")
    show.add_argument(
        "id", type=text(100), help="its id, or the start of it (at least 4 characters)"
    )
    show.set_defaults(run=_show)
    for action in ACTIONS:
        change = actions.add_parser(action, help=f"mark a recommendation {ACTIONS[action].value}")
        change.add_argument(
            "id", type=text(100), help="its id, or the start of it (at least 4 characters)"
        )
        change.add_argument(
            "--by", required=True, type=text(100), help="who decides (recorded in the history)"
        )
        change.add_argument("--note", type=text(), help="why, in a sentence")
        change.add_argument("--reason", choices=sorted(REASONS), help="reason code")
        change.set_defaults(run=_change, verb=action)
    gitops.register(actions)  # propose, sync-prs: approval as a pull request


def _common(parser: argparse.ArgumentParser) -> None:
    shared(parser, "--limits", "--now")


def _recommend(args: argparse.Namespace) -> int:
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    config = Settings(
        rules=Rules(args.for_points, timedelta(hours=args.no_data_after_hours)),
        lookback=timedelta(days=args.lookback_days),
        snooze=timedelta(days=args.snooze_days),
        expire_after=timedelta(days=args.expire_after_days),
        ttl=timedelta(days=args.ttl_days),
    )
    with db.connect(settings.database().dsn) as conn:
        found = money.read(conn, limits, now)
        mismatches = {m.account: m.message for m in found.mismatches}
        paid = {p.account: p for p in found.paid}
        summary = engine.run(conn, account_cases(limits), config, now, mismatches, paid)
    print(explain.run_summary(summary))
    for b in found.bills:
        print(f"bill {b.account}: {explain.bill_line(b.mean, b.upper)}")
    for o in found.budgets:
        print(o.message)
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
    for case in account_cases(limits):
        for service, metric in sorted(case.current.metrics):
            f = forecast_days(daily.get((service, metric), []), metric, period, today)
            if f is None:
                rows.append(f"{service} {metric}: no data")
                continue
            rows.append(explain.backtest_lines(service, metric, f))
    print("\n".join(rows) if rows else "no series to backtest")
    return 0


def _list(args: argparse.Namespace) -> int:
    statuses = (
        [s.value for s in Status] if args.all else args.status or sorted(s.value for s in OPEN)
    )
    with db.connect(settings.database().dsn) as conn:
        rows = store.list_recommendations(conn, statuses)
    if args.format == "json":
        formats.print_json([r.to_json() for r in rows])
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
        recommendation_id, entry = review.change_status(
            conn,
            args.id,
            args.verb,
            by=args.by,
            now=parse_now(None),
            note=args.note,
            reason=args.reason,
        )
    print(
        f"recommendation {recommendation_id}: "
        f"{entry.from_status} -> {entry.to_status} by {entry.by}"
    )
    return 0
