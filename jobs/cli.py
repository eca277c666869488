"""``python -m jobs``: a thin shell over the library.

Each command module registers its subcommands; the CLI turns our errors into one line
on stderr and an exit code: 0 success, 1 failure, 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from jobs import interrupts, logs
from jobs.errors import Interrupted, MonitoringError
from jobs.outputs import inert_terminal
from jobs.redact import scrub, secrets_from_env

COMMAND_MODULES = (
    "jobs.commands.schema",
    "jobs.commands.limits",
    "jobs.commands.collect",
    "jobs.commands.recommend",
    "jobs.commands.prisma",
    "jobs.commands.status",
    "jobs.commands.report",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m jobs",
        description="Infrastructure monitoring: schema, limits, collection and upgrade advice.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with inert_terminal():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose)
    secrets = secrets_from_env(os.environ)
    with interrupts.stop_cleanly():
        try:
            return int(args.run(args) or 0)
        except MonitoringError as exc:
            print(f"error: {scrub(str(exc), secrets)}", file=sys.stderr)
            return exc.exit_code
        except Interrupted as stop:
            print(f"error: {stop}: stopped, nothing half-written", file=sys.stderr)
            return stop.exit_code
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # a bug: still one line, and no secret in it or its traceback
            if args.verbose:
                sys.stderr.write(scrub("".join(traceback.format_exception(exc)), secrets))
            message = " ".join(scrub(str(exc), secrets).split())
            print(
                f"error: unexpected {type(exc).__name__}: {message} (a bug: please report it; "
                "-v shows where)",
                file=sys.stderr,
            )
            return 1
