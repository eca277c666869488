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

# Each command and the module that registers it. Only the module of the command being run
# is imported, so `collect` never loads the forecasting or plotting stacks (numpy, scipy,
# matplotlib) nor pulumi; `python -m jobs --help` (or an unknown command) loads them all.
COMMANDS = {
    "schema": "jobs.commands.schema",
    "limits": "jobs.commands.limits",
    "collect": "jobs.commands.collect",
    "recommend": "jobs.commands.recommend",
    "backtest": "jobs.commands.recommend",
    "recommendations": "jobs.commands.recommend",
    "prisma-schema": "jobs.commands.prisma",
    "status": "jobs.commands.status",
    "report": "jobs.commands.report",
    "notify": "jobs.commands.notify",
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _chosen(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (its first word that is not an option), if it is known."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None) -> ArgumentParser:
    """The parser; given ``argv`` naming a command, only that command's module is loaded
    (the others get an empty placeholder, never shown)."""
    chosen = _chosen(argv) if argv is not None else None
    parser = ArgumentParser(
        prog="python -m jobs",
        description="Infrastructure monitoring: schema, limits, collection and upgrade advice.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if chosen is None:
        for module in dict.fromkeys(COMMANDS.values()):
            importlib.import_module(module).register(commands)
        return parser
    importlib.import_module(COMMANDS[chosen]).register(commands)
    for name in COMMANDS.keys() - commands.choices.keys():
        commands.add_parser(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            with inert_terminal():
                return _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here (even after --help), not at exit
    except BrokenPipeError:
        return _reader_left()


def _main(argv: Sequence[str]) -> int:
    args = build_parser(argv).parse_args(argv)
    logs.setup(args.verbose)
    secrets = secrets_from_env(os.environ)
    with interrupts.stop_cleanly():
        try:
            return int(args.run(args) or 0)
        except BrokenPipeError:
            raise  # not a bug: main ends quietly
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


def _reader_left() -> int:
    """stdout's reader went away (``… | head``): what it wanted it has; end quietly, 0.
    stdout now points at /dev/null so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0
