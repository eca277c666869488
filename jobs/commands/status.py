"""``python -m jobs status``: one screen saying whether the deployment is healthy.

Exit 0 healthy, 1 unhealthy (each problem one line), 2 bad configuration.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from jobs import db, formats, settings
from jobs.commands.options import MAX_DAYS, number, parse_now, shared
from jobs.limits.loader import load as load_limits
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.status import checks, read

# The collection runs hourly (docs/operations.md): one late or skipped run is not stale yet.
DEFAULT_STALE_AFTER_HOURS = 3.0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status",
        help="verify the deployment: schema, limits, sources, services in WARNING/CRITICAL",
        description=(
            "Check that every schema object exists with the shape sql/ defines, that "
            "InfrastructureLimit matches the limits file, that every source collected "
            "recently, and which services are in WARNING, CRITICAL or NO_DATA. Exit 0: "
            "healthy; 1: a problem (one line each); 2: bad configuration."
        ),
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one check per line; json: for scripts (default: text)",
    )
    shared(parser, "--limits")
    parser.add_argument(
        "--source-stale-after-hours",
        type=number(float, 0, 24 * MAX_DAYS),
        default=DEFAULT_STALE_AFTER_HOURS,
        metavar="H",
        help="a source whose last success is older than this is stale (default "
        f"{DEFAULT_STALE_AFTER_HOURS:g})",
    )
    shared(parser, "--now")
    parser.set_defaults(run=_run)


def _file_name(path: Path) -> str:
    """How messages name the limits file: as given, or limits.yaml for the default."""
    return DEFAULT_LIMITS_FILE.name if path == DEFAULT_LIMITS_FILE else str(path)


def _run(args: argparse.Namespace) -> int:
    limits = load_limits(args.limits)
    now = parse_now(args.now)
    with db.connect(settings.database().dsn) as conn:
        findings = read.gather(conn, limits, _file_name(args.limits), now)
    advice = checks.Advice(settings.schema_advice(), settings.limits_advice())
    verdict = checks.judge(findings, timedelta(hours=args.source_stale_after_hours), advice)
    if args.format == "json":
        formats.print_json(checks.as_json(verdict))
    else:
        sys.stdout.write(checks.as_text(verdict))
    return verdict.exit_code
