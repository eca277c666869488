"""``python -m jobs limits check|diff``: validate limits.yaml, or compare it with the table.

``check`` needs no database (for pull-request CI); ``diff`` reads the table and this
billing period's usage to say what ``pulumi up`` would change and which alerts would move.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from psycopg import sql

from jobs import db, settings
from jobs.commands.options import shared
from jobs.errors import ConfigError, LimitsError
from jobs.limits import report, store
from jobs.limits.changes import compare, impacts
from jobs.limits.loader import load
from jobs.limits.model import LimitsFile
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema.deployed import NOTHING_DEPLOYED, nothing_deployed
from jobs.usage import BillingPeriod, period_usage

DEFAULT_NAME = "limits.yaml"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "limits", help="validate limits.yaml, or compare it with the InfrastructureLimit table"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check", help="validate the file (no database): exit 0, or one problem per line and 1"
    )
    _file_argument(check)
    check.set_defaults(run=_check)

    diff = actions.add_parser(
        "diff",
        help="rows pulumi up would add, change and remove, and the alert states that would move",
    )
    _file_argument(diff)
    diff.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown for a pull-request comment (default: text)",
    )
    shared(diff, "--schema")
    diff.set_defaults(run=_diff)


def _file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", help=f"the limits file (default: {DEFAULT_NAME} in the project)"
    )


def _load(args: argparse.Namespace) -> LimitsFile:
    if args.file is None:
        return load(DEFAULT_LIMITS_FILE, name=DEFAULT_NAME)
    return load(Path(args.file), name=args.file)


def _check(args: argparse.Namespace) -> int:
    try:
        limits = _load(args)
    except LimitsError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    plans = {limit.plan for limit in limits.limits}
    print(
        f"{limits.path}: ok, {len(limits.limits)} limits in {len(plans)} plans "
        f"({len(limits.rows())} table rows)"
    )
    return 0


def _diff(args: argparse.Namespace) -> int:
    limits = _load(args)
    database = settings.database()
    now = datetime.now(UTC).replace(tzinfo=None)
    period = BillingPeriod.containing(now)
    with db.connect(database.dsn) as conn:
        first_deploy = nothing_deployed(conn, args.schema)
        if first_deploy:
            table_rows, usage = [], {}  # every row would be added; no usage to move
        elif not store.table_exists(conn, args.schema):
            raise ConfigError(
                f'table {args.schema}."InfrastructureLimit" does not exist in the database at '
                f"{db.describe(database.dsn)}: {settings.schema_advice()}"
            )
        else:
            table_rows = [stored.row for stored in store.read_all(conn, args.schema)]
            with conn.transaction():  # the usage of the same schema's metrics
                conn.execute(
                    sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(args.schema))
                )
                usage = period_usage(conn, period, as_of=now)
    changes = compare(limits.rows(), table_rows)
    active = {s.service: s.plan for s in limits.services}
    moved = impacts(changes, active, {key: u.value for key, u in usage.items()})
    table = f'{args.schema}."InfrastructureLimit"'
    touched = {change.key for change in changes}
    result = report.DiffReport(
        file=limits.path,
        table=table,
        changes=changes,
        impacts=moved,
        unchanged=sum(1 for row in limits.rows() if row.key not in touched),
        period=period,
    )
    if args.format == "markdown":
        sys.stdout.write(
            (f"> {NOTHING_DEPLOYED}\n\n" if first_deploy else "") + report.markdown(result)
        )
    else:
        sys.stdout.write((f"{NOTHING_DEPLOYED}\n" if first_deploy else "") + report.text(result))
    return 0
