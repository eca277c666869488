"""``python -m jobs schema up|plan|show|down``: the local bootstrap of the monitoring schema.

The same code the Pulumi provider runs, for a laptop or a database Pulumi does not manage.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

import psycopg

from jobs import db, settings
from jobs.commands.options import shared
from jobs.schema import migrate
from jobs.schema.deployed import NOTHING_DEPLOYED, nothing_deployed
from jobs.schema.plan import SCHEMA_PLAN
from jobs.schema.shapes import EnumShape, FunctionShape, Shape

Runner = Callable[[argparse.Namespace], int]


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "schema", help="create, inspect or roll back the monitoring schema"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def add(name: str, help_text: str, run: Runner, *, data_loss: bool = False) -> None:
        sub = actions.add_parser(name, help=help_text)
        shared(sub, "--schema")
        if data_loss:
            sub.add_argument(
                "--allow-data-loss",
                action="store_true",
                help="allow changes that drop data (default: refuse; rollback archives tables)",
            )
        sub.set_defaults(run=run)

    add("up", "create what is missing, adopt what matches, alter what changed", _up, data_loss=True)
    add("plan", "show what 'up' would change, changing nothing", _plan)
    add(
        "show",
        "list the objects and whether they match sql/ (exit 1 when one is missing or "
        "differs; 0 with 'nothing deployed yet' when none exists)",
        _show,
    )
    add(
        "down",
        "roll back in the seed's order; tables with rows go to an archive schema",
        _down,
        data_loss=True,
    )


def _specs(schema: str) -> Iterator[migrate.ObjectSpec]:
    return (migrate.ObjectSpec.from_plan(obj, schema) for obj in SCHEMA_PLAN)


def _connect() -> psycopg.Connection:
    database = settings.database()
    return db.connect(database.dsn)


def _up(args: argparse.Namespace) -> int:
    with _connect() as conn:
        for spec in _specs(args.schema):
            applied = migrate.apply(conn, spec, allow_data_loss=args.allow_data_loss)
            planned = applied.plan
            what = planned.describe() if planned else "created"
            print(f"{spec.label}: {what}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    with _connect() as conn:
        for spec in _specs(args.schema):
            planned = migrate.plan(conn, spec)
            note = f"  [refused: {planned.blocker}]" if planned.blocker else ""
            print(f"{spec.label}: {planned.describe()}{note}")
    return 0


def _summary(shape: Shape) -> str:
    if isinstance(shape, EnumShape):
        return f"{len(shape.labels)} values"
    if isinstance(shape, FunctionShape):
        definer = ", security definer" if shape.security_definer else ""
        return f"returns {shape.result}{definer}, {len(shape.triggers)} triggers"
    return (
        f"{len(shape.columns)} columns, {len(shape.constraints)} constraints, "
        f"{len(shape.indexes)} indexes"
    )


def _show(args: argparse.Namespace) -> int:
    healthy = True
    with _connect() as conn:
        if nothing_deployed(conn, args.schema):
            # Before the first deploy nothing can have drifted.
            print(f"{NOTHING_DEPLOYED} ({len(SCHEMA_PLAN)} objects in schema {args.schema})")
            return 0
        for spec in _specs(args.schema):
            planned = migrate.plan(conn, spec)
            shape = migrate.read(conn, spec)
            if shape is None:
                healthy = False
                print(f"{spec.label}: missing")
                continue
            detail = _summary(shape)
            if spec.kind == "table":
                detail += f", {migrate.row_count(conn, spec.schema, spec.name)} rows"
            if planned.changes:
                healthy = False
                print(f"{spec.label}: differs from sql/ ({planned.describe()}); {detail}")
            else:
                print(f"{spec.label}: ok; {detail}")
    return 0 if healthy else 1


def _down(args: argparse.Namespace) -> int:
    archive = migrate.archive_schema_name()
    with _connect() as conn:
        for spec in reversed(list(_specs(args.schema))):
            print(
                migrate.delete(
                    conn, spec, allow_data_loss=args.allow_data_loss, archive_schema=archive
                )
            )
    return 0
