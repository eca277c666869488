"""The first runs: in CI the jobs never fall back to the embedded server, and before the
first deploy preview (`limits diff`) and the drift check (`schema show`) pass, saying that
nothing is deployed yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from jobs import settings
from jobs.errors import ConfigError
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema.plan import SCHEMA_PLAN
from tests.support.cli import run

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "env",
    [{"GITHUB_ACTIONS": "true"}, {"CI": "true"}, {"CI": "1", "DATABASE_URL": "  "}],
)
def test_in_ci_an_empty_database_url_names_the_secret(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        settings.database(env=env, data_dir=tmp_path / "pgdata")
    message = str(refused.value)
    assert message.startswith("DATABASE_URL is empty in CI")
    assert "JOBS_DATABASE_URL" in message and "\n" not in message
    assert not (tmp_path / "pgdata").exists()  # no server was started


def test_ci_set_to_false_is_not_ci() -> None:
    assert not settings.in_ci({"CI": "false", "GITHUB_ACTIONS": ""})
    assert not settings.in_ci({"CI": "0"})
    assert settings.in_ci({"GITHUB_ACTIONS": "true"})


@pytest.mark.parametrize(
    "command", [["collect", "--focus-file", "limits.yaml"], ["recommend"], ["status"]]
)
def test_jobs_in_ci_without_a_database_exit_2_in_one_line(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "jobs", *command],
        env=env | {"GITHUB_ACTIONS": "true", "DATABASE_URL": ""},
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: DATABASE_URL is empty in CI") and "JOBS_DATABASE_URL" in line


def test_schema_advice_fits_where_the_command_runs() -> None:
    url = {"DATABASE_URL": "postgresql://u@h/db"}
    assert "deploy workflow" in settings.schema_advice(url | {"GITHUB_ACTIONS": "true"})
    assert settings.schema_advice({}) == "run `python -m jobs schema up`"  # embedded
    assert settings.schema_advice(url).startswith("run `pulumi up`")


def test_collect_before_the_deploy_says_how_to_deploy_where_it_runs(
    empty_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = run(capsys, "collect", "--focus-file", "samples/vercel-focus-sample.jsonl")
    assert code == 2
    assert err.startswith("error: the database lacks the tables")
    assert err.endswith("run the deploy workflow (pulumi up), see docs/operations.md\n")


@pytest.fixture
def first_deploy(empty_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    return empty_db


def test_limits_diff_before_the_first_deploy_shows_every_row_as_added(
    first_deploy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = len(load(DEFAULT_LIMITS_FILE).rows())
    code, out, err = run(capsys, "limits", "diff")
    assert (code, err) == (0, "")
    first, second = out.splitlines()[:2]
    assert first == "nothing deployed yet: everything would be created"
    assert second.endswith(f": {rows} added")
    code, out, err = run(capsys, "limits", "diff", "--format", "markdown")
    assert (code, err) == (0, "")
    assert out.startswith("> nothing deployed yet: everything would be created\n\n### Plan limits")
    assert f"{rows} added" in out


def test_schema_show_before_the_first_deploy_passes(
    first_deploy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "schema", "show")
    assert (code, err) == (0, "")
    assert out == (
        "nothing deployed yet: everything would be created "
        f"({len(SCHEMA_PLAN)} objects in schema public)\n"
    )


def test_schema_show_after_a_deploy_still_fails_on_a_missing_object(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    with psycopg.connect(migrated_db) as conn:
        conn.execute('DROP TABLE "UpgradeRecommendation" CASCADE')
    code, out, _ = run(capsys, "schema", "show")
    assert code == 1
    assert "nothing deployed" not in out
    assert 'table public."UpgradeRecommendation": missing' in out.splitlines()
