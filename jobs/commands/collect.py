"""``python -m jobs collect``: usage and cost from the providers (or FOCUS files) into the DB."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jobs.commands.options import number
from jobs.errors import CollectionBusy, ConfigError
from jobs.redact import scrub, secrets_from_env

DEFAULT_LOCK_WAIT = 60.0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "collect",
        help="collect usage and cost from Vercel, Neon and Upstash (or a FOCUS file)",
        description=(
            "Collect usage and cost into InfrastructureMetric. Sources are enabled by their "
            "credentials in the environment (see docs/collection.md). Exit 0: every source "
            "ok; 1: a source failed (the others' data is kept); 2: bad configuration, or only "
            "bad FOCUS files failed."
        ),
    )
    parser.add_argument(
        "--focus-file",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="import this FOCUS export (CSV or JSON lines) instead of calling the APIs; repeatable",
    )
    parser.add_argument(
        "--backfill-days",
        metavar="N",
        help="days a source collects on its first run (default: $COLLECT_BACKFILL_DAYS or 7)",
    )
    parser.add_argument(
        "--lock-wait",
        type=number(float, 0, 3600, low_allowed=True),
        default=DEFAULT_LOCK_WAIT,
        metavar="SECONDS",
        help="how long to wait for a run already in progress (default 60; 0: do not wait)",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported when the command runs: `collect --help` loads neither the driver nor httpx.
    from jobs import settings
    from jobs.collect import config as collect_config
    from jobs.collect import summary
    from jobs.collect.runner import collect
    from jobs.outputs import append_step_summary

    config = collect_config.from_env()
    if args.backfill_days is not None:
        days = collect_config.backfill_days(args.backfill_days, "--backfill-days")
        config = collect_config.CollectConfig(
            config.vercel, config.neon, config.upstash, days, config.http
        )
    for path in args.focus_file:
        if not path.is_file():
            raise ConfigError(f"--focus-file {path}: no such file")
    if not args.focus_file and not config.any_source:
        raise ConfigError(
            "no source is enabled: set VERCEL_TOKEN, NEON_API_KEY (+ NEON_PROJECT_ID or "
            "NEON_ORG_ID) or UPSTASH_EMAIL + UPSTASH_API_KEY + UPSTASH_DATABASE_IDS, "
            "or pass --focus-file PATH (see docs/collection.md)"
        )
    database = settings.database()
    try:
        report = collect(config, database.dsn, files=args.focus_file, lock_wait=args.lock_wait)
    except CollectionBusy as busy:
        # Not a failure: the run holding the lock is collecting the same windows.
        print(f"skipped: {busy}", file=sys.stderr)
        return 0
    secrets = secrets_from_env(os.environ)
    sys.stdout.write(scrub(summary.as_text(report), secrets))
    append_step_summary(scrub(summary.as_markdown(report), secrets))
    return report.exit_code
