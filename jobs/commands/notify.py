"""``python -m jobs notify``: tell the receivers of ``notifications.yaml`` what changed.

Exit 0: every due message was delivered (or nothing was due); 1: a delivery failed (it is
retried by the next run) or the database failed; 2: bad configuration.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from jobs import db, settings
from jobs.commands.options import parse_now, shared
from jobs.limits.loader import load as load_limits
from jobs.notify import config as notify_config
from jobs.notify import run
from jobs.paths import DEFAULT_NOTIFICATIONS_FILE
from jobs.redact import secrets_from_env


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "notify",
        help="send the notifications of notifications.yaml (transitions, forecasts, sources)",
        description=(
            "Compare what holds now (series states, breach forecasts, recommendations, "
            "sources, the dead-man check) with what was last said, and deliver each new "
            "notification once. Exit 0: delivered or nothing due; 1: a delivery failed "
            "(retried next run); 2: bad configuration."
        ),
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_NOTIFICATIONS_FILE,
        help="the notifications file (default: notifications.yaml)",
    )
    shared(parser, "--limits", "--now")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be sent; record and send nothing",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    config = notify_config.load(args.config)
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    env = dict(os.environ)
    secrets = secrets_from_env(env) + run.receiver_secrets(config, env)
    timeout = httpx.Timeout(config.settings.timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        senders = run.build_senders(config, env, client, secrets)
        with db.connect(settings.database().dsn, autocommit=True) as conn:
            gathered = run.gather(conn, limits, now)
            if args.dry_run:
                planned = run.decide(
                    conn, config, gathered, set(senders), now, secrets, record=False
                )
                for p in planned:
                    print(f"would notify {p.receiver} ({p.group}): {p.change}: {p.title}")
                print(f"notify (dry run): {len(planned)} new notifications, nothing sent")
                return 0
            result = run.run(conn, config, gathered, senders, now, secrets)
    for line in result.failed:
        print(f"failed: {line}")
    disabled = f"; not configured: {', '.join(result.disabled)}" if result.disabled else ""
    print(
        f"notify: {len(result.planned)} new notifications, {result.sent} messages sent, "
        f"{len(result.failed)} failed ({result.abandoned} given up), {result.left} left for "
        f"the next run{disabled}"
    )
    return result.exit_code
