"""``python -m jobs schema …``: the local bootstrap, through the CLI, against real PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from jobs import embedded, settings
from jobs.cli import main
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db_env(monkeypatch: pytest.MonkeyPatch, empty_db: str) -> str:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    return empty_db


def test_up_creates_then_finds_nothing_to_do(
    capsys: pytest.CaptureFixture[str], db_env: str
) -> None:
    code, out, _ = run(capsys, "schema", "up")
    assert code == 0
    assert out.splitlines() == [f'{o.kind} public."{o.name}": create' for o in SCHEMA_PLAN]
    code, out, _ = run(capsys, "schema", "up")
    assert code == 0
    assert all(line.endswith(": no change") for line in out.splitlines())


def test_show_fails_until_everything_exists(
    capsys: pytest.CaptureFixture[str], db_env: str
) -> None:
    code, out, _ = run(capsys, "schema", "show")
    assert code == 0  # before the first deploy nothing can have drifted
    assert out.startswith("nothing deployed yet: everything would be created")
    with psycopg.connect(db_env) as conn:  # one object: a partial schema is not "nothing"
        migrate.apply(conn, migrate.ObjectSpec.from_plan(SCHEMA_PLAN[0], "public"))
    code, out, _ = run(capsys, "schema", "show")
    assert code == 1
    assert 'enum public."MetricType": missing' in out
    run(capsys, "schema", "up")
    code, out, _ = run(capsys, "schema", "show")
    assert code == 0
    assert (
        'table public."InfrastructureMetric": ok; 12 columns, 4 constraints, 3 indexes, 0 rows'
        in out
    )


def test_show_reports_a_hand_edit(capsys: pytest.CaptureFixture[str], db_env: str) -> None:
    run(capsys, "schema", "up")
    with psycopg.connect(db_env) as conn:
        conn.execute('DROP INDEX "InfrastructureMetric_timestamp_idx"')
    code, out, _ = run(capsys, "schema", "show")
    assert code == 1
    assert (
        'table public."InfrastructureMetric": differs from sql/ (table "InfrastructureMetric": '
        'add index InfrastructureMetric_timestamp_idx USING btree ("timestamp"))'
    ) in out
    code, out, _ = run(capsys, "schema", "plan")
    assert "add index InfrastructureMetric_timestamp_idx" in out
    run(capsys, "schema", "up")
    assert run(capsys, "schema", "show")[0] == 0


def test_down_archives_tables_with_rows(capsys: pytest.CaptureFixture[str], db_env: str) -> None:
    run(capsys, "schema", "up")
    with psycopg.connect(db_env) as conn:
        conn.execute(
            """INSERT INTO "InfrastructureLimit" (service, "metricType", plan, "limitValue", unit)
               VALUES ('VERCEL_BLOB', 'STORAGE_MB', 'hobby', 1024, 'MB')"""
        )
    code, out, _ = run(capsys, "schema", "down")
    assert code == 0
    lines = out.splitlines()
    assert lines[:8] == [
        'function public."guard_review_history" dropped',
        'function public."merge_metrics" dropped',
        'table public."PlanPurchase" dropped',
        'table public."NotificationLog" dropped',
        'table public."UsageAssessment" dropped',
        'table public."CollectionRun" dropped',
        'table public."CollectionWatermark" dropped',
        'table public."UpgradeRecommendation" dropped',
    ]
    assert lines[8].startswith(
        'table public."InfrastructureLimit" holds 1 rows: moved to schema infra_archive_'
    )
    assert lines[-1].startswith(
        'enum public."InfrastructureService" is used by archived tables: moved'
    )
    # Rolled back: nothing of the schema is left, as before the first deploy.
    code, out, _ = run(capsys, "schema", "show")
    assert (code, out.split(" (")[0]) == (0, "nothing deployed yet: everything would be created")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u:topsecret@host:notaport/db", "a port is not a number from 1 to 65535"),
        ("db.example.com topsecret", 'missing "…"; percent-encode the password'),
    ],
)
def test_bad_database_url_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    code, _, err = run(capsys, "schema", "up")
    assert code == 2
    assert err.startswith("error: DATABASE_URL is not a valid PostgreSQL URL: ")
    assert reason in err
    assert len(err.splitlines()) == 1 and "topsecret" not in err


def test_unreachable_database_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:topsecret@127.0.0.1:9/db")
    code, _, err = run(capsys, "schema", "show")
    assert code == 1
    assert err == "error: cannot connect to PostgreSQL at u@127.0.0.1:9/db: Connection refused\n"


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schema", "sideways"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument ACTION: invalid choice: 'sideways'")
    assert len(err.splitlines()) == 1


def test_embedded_default_without_database_url() -> None:
    # Outside pytest's basetemp, whose permissions the server's own user cannot traverse
    # at exit; stopped here rather than left to the interpreter's exit.
    root = Path(tempfile.mkdtemp(prefix="infra-monitoring-embedded-"))
    try:
        database = settings.database(env={}, data_dir=root / "pgdata")
        assert database.embedded
        with psycopg.connect(database.dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("monitoring",)
    finally:
        embedded.stop(root / "pgdata")
        shutil.rmtree(root, ignore_errors=True)


def test_module_entry_point(db_env: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobs", "schema", "up", "--schema", "public"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": create") == len(SCHEMA_PLAN)
