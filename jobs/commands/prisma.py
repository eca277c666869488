"""``python -m jobs prisma-schema``: the Prisma models of the monitoring schema, from sql/.

Builds the schema with the migration code in a rolled-back scratch schema of the database
(``DATABASE_URL`` or the embedded default), so it changes nothing there, and prints the
models, writes them to a file (``--output``), or checks a file against them (``--check``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jobs import db, settings
from jobs.errors import ConfigError, PrismaSchemaDrift
from jobs.outputs import check_writable, write_atomically
from jobs.prisma import drift, introspect, render

REGENERATE = "python -m jobs prisma-schema --output prisma/infrastructure.prisma"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prisma-schema",
        help="print, write or check the Prisma models generated from sql/",
        description=(
            "Generate the Prisma enums and models of the monitoring schema from sql/ "
            "(built in a rolled-back scratch schema of DATABASE_URL or the embedded default)."
        ),
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--output", metavar="FILE", type=Path, help="write the schema to FILE (atomically)"
    )
    target.add_argument(
        "--check",
        metavar="FILE",
        type=Path,
        help="exit 1, naming every difference, unless FILE equals the generated schema",
    )
    parser.set_defaults(run=_run)


def generate() -> str:
    """The Prisma schema text of what sql/ builds."""
    with db.connect(settings.database().dsn) as conn:
        return render.render(introspect.objects_from_sql(conn))


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {path}: {reason}") from None


def check(path: Path, text: str, generated: str) -> None:
    """Raise PrismaSchemaDrift naming every difference between ``text``, read from ``path``,
    and ``generated``."""
    found = drift.differences(text, generated, str(path))
    if found:
        raise PrismaSchemaDrift(
            f"{path} does not match sql/: {'; '.join(found)}; regenerate it with `{REGENERATE}`"
        )


def _run(args: argparse.Namespace) -> int:
    if args.check:
        text = read(args.check)  # a bad path fails before any database work
        check(args.check, text, generate())
        print(f"{args.check} matches sql/")
        return 0
    if args.output:
        check_writable(args.output, "--output")  # before any database work
    generated = generate()
    if args.output:
        write_atomically(args.output, generated, "--output")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(generated)
    return 0
