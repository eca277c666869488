"""``python -m jobs collect`` through the CLI: exit codes, the step summary, FOCUS files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.cli import main
from jobs.collect.records import day_start
from jobs.collect.runner import utc_now
from tests.support.fake_apis import FakeApis, Reply, charge, deployment

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLE = ROOT / "samples" / "vercel-focus-sample.jsonl"
COLLECT_VARS = (
    "VERCEL_TOKEN",
    "VERCEL_TEAM_ID",
    "NEON_API_KEY",
    "NEON_PROJECT_ID",
    "NEON_ORG_ID",
    "UPSTASH_EMAIL",
    "UPSTASH_API_KEY",
    "UPSTASH_DATABASE_IDS",
    "COLLECT_BACKFILL_DAYS",
    "GITHUB_STEP_SUMMARY",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, migrated_db: str) -> pytest.MonkeyPatch:
    for name in COLLECT_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    return monkeypatch


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    today = day_start(utc_now())
    with FakeApis() as fake:
        fake.charges = [
            # Days that have ended in Los Angeles whatever the hour (the API serves no other).
            charge(today - timedelta(days=3), "Edge Requests", 5000, "Requests", 0.0),
            charge(today - timedelta(days=2), "Edge Requests", 700, "Requests", 0.0),
        ]
        fake.deployments = [deployment("d1", today - timedelta(days=1, hours=-2), 30)]
        yield fake


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["collect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(dsn: str, source: str | None = None) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            'SELECT count(*) FROM "InfrastructureMetric" '
            "WHERE %(s)s::text IS NULL OR source = %(s)s",
            {"s": source},
        ).fetchone()
    return int(row[0]) if row else 0


def test_no_source_enabled_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys)
    assert code == 2
    assert err.startswith("error: no source is enabled: set VERCEL_TOKEN")
    assert len(err.splitlines()) == 1 and out == ""


def test_half_given_credentials_exit_2_before_anything_runs(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str
) -> None:
    env.setenv("UPSTASH_EMAIL", "ops@example.com")
    code, _, err = run(capsys)
    assert (code, err) == (
        2,
        "error: UPSTASH_EMAIL set but UPSTASH_API_KEY, UPSTASH_DATABASE_IDS missing\n",
    )
    env.delenv("UPSTASH_EMAIL")
    env.setenv("VERCEL_TOKEN", "t")
    code, _, err = run(capsys, "--backfill-days", "many")
    assert code == 2 and "--backfill-days must be a whole number of days" in err
    assert count(migrated_db) == 0


def test_a_run_prints_the_summary_and_appends_it_to_the_step_summary(
    capsys: pytest.CaptureFixture[str],
    env: pytest.MonkeyPatch,
    apis: FakeApis,
    tmp_path: Path,
    migrated_db: str,
) -> None:
    step = tmp_path / "summary.md"
    step.write_text("# earlier step\n")
    for name, value in apis.env().items():
        env.setenv(name, value)
    env.setenv("GITHUB_STEP_SUMMARY", str(step))
    code, out, err = run(capsys, "--backfill-days", "2")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("collection run ") and lines[0].endswith(": all sources ok")
    assert lines[2].split() == [
        "source",
        "windows",
        "written",
        "new",
        "updated",
        "unchanged",
        "unmapped",
        "result",
    ]
    # Billing asks again for the week before the backfill's first day (late days).
    billing = lines[3].split()
    assert billing[0] == "vercel-billing" and int(billing[1]) >= 10
    assert billing[2:] == ["4", "4", "0", "0", "0", "ok"]
    assert lines[4].split() == ["vercel-deployments", "3", "6", "6", "0", "0", "0", "ok"]
    markdown = step.read_text()
    assert markdown.startswith("# earlier step\n### collection run ")
    assert f"| vercel-billing | {billing[1]} | 4 | 4 | 0 | 0 | 0 | ok |" in markdown
    assert apis.calls("/v1/billing")[0]["teamId"] == ["team_1"]
    assert "vercel-test-token" not in out + markdown


def test_a_failed_source_exits_1_and_keeps_the_others(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, apis: FakeApis, migrated_db: str
) -> None:
    for name, value in apis.env().items():
        env.setenv(name, value)
    env.setenv("VERCEL_TOKEN", "expired")
    apis.script("/v6/deployments", Reply(200, {"deployments": [{"uid": 5}]}))
    code, out, _ = run(capsys)
    assert code == 1
    assert "error vercel-billing: GET /v1/billing/charges: HTTP 401" in out
    assert "error vercel-deployments: deployments page 1, item 1: 'uid' should be str" in out
    assert count(migrated_db) == 0


def test_a_second_run_while_one_holds_the_lock_exits_cleanly(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, apis: FakeApis, migrated_db: str
) -> None:
    for name, value in apis.env().items():
        env.setenv(name, value)
    with psycopg.connect(migrated_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext('infra-monitoring:collect'))")
        code, _, err = run(capsys, "--lock-wait", "0.2")
    assert code == 0
    assert err == (
        "skipped: another collection run holds the lock (waited 0.2s); this run collected "
        "nothing, the running one collects the same windows\n"
    )
    assert apis.calls("/") == [] and count(migrated_db) == 0


def test_a_focus_csv_file_imports_into_the_api_stream(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str
) -> None:
    code, out, _ = run(capsys, "--focus-file", str(DATA / "focus-vercel.csv"))
    assert code == 0, out
    assert "note file:focus-vercel.csv: 1 non-usage charges not stored (1 Tax)" in out
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            'SELECT service::text, "metricType"::text, "timestamp", value, source '
            'FROM "InfrastructureMetric" ORDER BY 1, 2, 3'
        ).fetchall()
        watermarks = conn.execute('SELECT count(*) FROM "CollectionWatermark"').fetchone()
    d18, d19 = datetime(2026, 11, 18), datetime(2026, 11, 19)
    assert rows == [
        ("VERCEL_BANDWIDTH", "BANDWIDTH_GB", d18, 1.5, "vercel-billing"),
        ("VERCEL_BANDWIDTH", "BANDWIDTH_GB", d19, 2.25, "vercel-billing"),
        ("VERCEL_BANDWIDTH", "COST_USD", d18, 0.0, "vercel-billing"),
        ("VERCEL_BANDWIDTH", "COST_USD", d19, 0.0, "vercel-billing"),
        ("VERCEL_FUNCTIONS", "COST_USD", d19, 0.063, "vercel-billing"),  # EffectiveCost
        ("VERCEL_FUNCTIONS", "INVOCATIONS", d19, 120000.0, "vercel-billing"),
    ]
    assert watermarks == (0,)  # a file never moves an API source's watermark


def test_a_file_then_the_api_for_the_same_days_never_double_counts(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str, tmp_path: Path
) -> None:
    today = day_start(utc_now())
    lines = [
        charge(today - timedelta(days=d), "Edge Requests", 1000 * d, "Requests", 0.0)
        for d in (2, 3)  # days that have ended in Los Angeles too
    ]
    export = tmp_path / "export.jsonl"
    import json

    export.write_text("".join(json.dumps(c) + "\n" for c in lines))
    assert run(capsys, "--focus-file", str(export))[0] == 0
    imported = count(migrated_db)
    with FakeApis() as apis:
        apis.charges = lines
        for name, value in apis.env().items():
            env.setenv(name, value)
        code, out, _ = run(capsys, "--backfill-days", "2")
    assert code == 0, out
    billing = next(line.split() for line in out.splitlines() if line.startswith("vercel-billing"))
    # written, new, updated, unchanged, unmapped: the file's rows, re-read, nothing changed.
    assert billing[2:] == ["0", "0", "0", "4", "0", "ok"]
    assert count(migrated_db, "vercel-billing") == imported


def test_bad_rows_are_reported_with_file_and_line_and_nothing_is_imported(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str, tmp_path: Path
) -> None:
    bad = tmp_path / "focus-bad.jsonl"
    shutil.copy(DATA / "focus-bad.jsonl", bad)
    code, out, _ = run(
        capsys, "--focus-file", str(bad), "--focus-file", str(DATA / "focus-neon.jsonl")
    )
    assert code == 2  # the user's file is bad: a user error, like a bad option
    error = next(line for line in out.splitlines() if line.startswith("error file:focus-bad.jsonl"))
    assert error == (
        f"error file:focus-bad.jsonl: 3 bad rows, nothing imported: {bad}:2: ConsumedQuantity is "
        f"not a number: 'many'; {bad}:4: not valid JSON; {bad}:5: ServiceName is missing"
    )
    # The other file of the same run is imported, under its provider's own stream.
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            'SELECT service::text, "metricType"::text, value, source FROM "InfrastructureMetric"'
        ).fetchall()
    assert rows == [("VERCEL_POSTGRES", "COST_USD", pytest.approx(4.55), "focus:Neon")]


def test_a_missing_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "--focus-file", "no/such.jsonl")
    assert (code, err) == (2, "error: --focus-file no/such.jsonl: no such file\n")


def test_the_sample_export_imports_thirty_days_of_several_services(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str
) -> None:
    code, out, _ = run(capsys, "--focus-file", str(SAMPLE))
    assert code == 0, out
    assert "unmapped file:" not in out
    assert out.splitlines()[3].split()[5] == "0"  # the unmapped column
    with psycopg.connect(migrated_db) as conn:
        days, series = conn.execute(
            'SELECT count(DISTINCT "timestamp"), count(DISTINCT (service, "metricType")) '
            'FROM "InfrastructureMetric"'
        ).fetchone()
    assert days == 30 and series >= 12
    code, out, _ = run(capsys, "--focus-file", str(SAMPLE))
    assert " 0    0 " in out.splitlines()[3]  # the same file again changes nothing


def test_a_database_without_the_schema_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, empty_db: str
) -> None:
    env.setenv("DATABASE_URL", empty_db)
    code, _, err = run(capsys, "--focus-file", str(SAMPLE))
    assert (code, err) == (
        2,
        "error: the database lacks the tables InfrastructureMetric, CollectionWatermark, "
        "CollectionRun and the functions merge_metrics: run `pulumi up` (or `python -m jobs "
        "schema up` for a database Pulumi does not manage)\n",
    )


def test_a_schema_older_than_the_jobs_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, migrated_db: str
) -> None:
    """Deployed before merge_metrics existed: collect says what is missing, writes nothing."""
    with psycopg.connect(migrated_db) as conn:
        conn.execute("DROP FUNCTION merge_metrics")
    env.setenv("DATABASE_URL", migrated_db)
    code, _, err = run(capsys, "--focus-file", str(SAMPLE))
    assert (code, err) == (
        2,
        "error: the database lacks the functions merge_metrics: run `pulumi up` (or "
        "`python -m jobs schema up` for a database Pulumi does not manage)\n",
    )
    with psycopg.connect(migrated_db) as conn:
        assert conn.execute('SELECT count(*) FROM "InfrastructureMetric"').fetchone() == (0,)
