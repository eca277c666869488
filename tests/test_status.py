"""`python -m jobs status` against real databases: healthy, broken in one way each."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.collect import store as metrics_store
from jobs.limits import store as limits_store
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.status import checks
from jobs.usage import BillingPeriod
from tests.support.cli import run, write_daily

NOW = datetime(2026, 11, 20, 12, 30)
NOW_ARG = NOW.isoformat()
SOURCE = "vercel-billing"
ADVICE = checks.Advice(schema="run the schema fix", limits="run the limits fix")


def load_limits(dsn: str) -> None:
    """InfrastructureLimit as `pulumi up` leaves it: one row per row of limits.yaml."""
    with psycopg.connect(dsn) as conn:
        for row in load(DEFAULT_LIMITS_FILE).rows():
            limits_store.upsert(conn, "public", row, "test")


def record_success(dsn: str, at: datetime) -> None:
    with psycopg.connect(dsn) as conn:
        metrics_store.write(
            conn,
            SOURCE,
            [],
            through=datetime.combine(at.date(), datetime.min.time()),
            run_id=str(uuid.uuid4()),
            at=at,
            mark=True,
        )


def record_failure(dsn: str, at: datetime, error: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        metrics_store.record_failure(conn, SOURCE, error, run_id=str(uuid.uuid4()), at=at)


def execute(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement.encode())


@pytest.fixture
def healthy(
    monkeypatch: pytest.MonkeyPatch, migrated_db: str, capsys: pytest.CaptureFixture[str]
) -> str:
    """Limits loaded, the source collected 10 minutes ago, bandwidth at 80 % (WARNING)."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    load_limits(migrated_db)
    record_success(migrated_db, NOW - timedelta(minutes=10))
    # Oct 1 .. Nov 19: 75.6 GB of 100 by Nov 19, 79.8 GB by Nov 20 (two points past 75 %).
    write_daily(migrated_db, datetime(2026, 10, 1), [4.2] * 50)
    code, _, err = run(capsys, "recommend", "--now", NOW_ARG)
    assert code == 0, err
    return migrated_db


def status(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    code, out, err = run(capsys, "status", "--now", NOW_ARG, *extra)
    assert err == ""
    return code, out.splitlines()


def failures(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


def test_a_healthy_deployment_exits_0_and_says_what_it_checked(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    code, lines = status(capsys)
    assert code == 0, lines
    assert lines[0].endswith(": healthy")
    assert failures(lines) == []
    assert "ok    schema: 14 of 14 objects exist and match sql/" in lines
    limits_line = next(line for line in lines if line.startswith("ok    limits:"))
    assert "41 rows in InfrastructureLimit for 6 plans" in limits_line
    assert "vercel-hobby 17" in limits_line and limits_line.endswith("matching limits.yaml")
    assert (
        "ok    sources: source vercel-billing: last success 2026-11-20 12:20 UTC (10 min ago), "
        "collected through 2026-11-20 00:00 UTC"
    ) in lines
    # WARNING and NO_DATA are reported but do not make the deployment unhealthy.
    assert any(
        line.startswith("warn  services: VERCEL_BANDWIDTH/BANDWIDTH_GB WARNING at 80% of 100 GB")
        for line in lines
    ), lines
    assert any(line.startswith("warn  services: VERCEL_KV NO_DATA: ") for line in lines)


def test_a_missing_index_fails_naming_the_index(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    execute(healthy, 'DROP INDEX "InfrastructureMetric_timestamp_idx"')
    code, lines = status(capsys)
    assert code == 1
    assert lines[0].endswith("UNHEALTHY, 1 problem")
    assert failures(lines) == [
        'FAIL  schema: table "InfrastructureMetric" differs from '
        "sql/deploy/InfrastructureMetric.sql: add index InfrastructureMetric_timestamp_idx "
        'USING btree ("timestamp")'
    ]
    assert "ok    schema: 13 of 14 objects exist and match sql/" in lines


def test_a_changed_column_type_fails_naming_both_types(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    execute(healthy, 'ALTER TABLE "CollectionRun" ALTER COLUMN "rowsWritten" TYPE bigint')
    code, lines = status(capsys)
    assert code == 1
    assert failures(lines) == [
        'FAIL  schema: table "CollectionRun" differs from sql/deploy/CollectionRun.sql: '
        "column rowsWritten type bigint -> integer"
    ]


def test_a_source_that_stopped_reporting_is_stale(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    record_success(healthy, NOW - timedelta(hours=5))
    record_failure(healthy, NOW - timedelta(minutes=15), "HTTP 401: Unauthorized")
    code, lines = status(capsys)
    assert code == 1
    assert failures(lines) == [
        "FAIL  sources: source vercel-billing is stale: last success 2026-11-20 07:30 UTC "
        "(5.0 h ago), stale after 3 h; last error at 2026-11-20 12:15 UTC: HTTP 401: Unauthorized"
    ]
    # The threshold is configurable: 6 hours tolerate it (the failed attempt still shows).
    code, lines = status(capsys, "--source-stale-after-hours", "6")
    assert code == 0, lines
    assert any(
        line.startswith("warn  sources: source vercel-billing: last success 2026-11-20 07:30")
        and line.endswith("last error at 2026-11-20 12:15 UTC: HTTP 401: Unauthorized")
        for line in lines
    ), lines


def test_a_source_that_never_succeeded_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, migrated_db: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    load_limits(migrated_db)
    record_failure(migrated_db, NOW - timedelta(minutes=5), "timed out after 30 s")
    code, lines = status(capsys)
    assert code == 1
    assert failures(lines) == [
        "FAIL  sources: source vercel-billing never collected successfully; "
        "last error at 2026-11-20 12:25 UTC: timed out after 30 s"
    ]


def test_a_critical_service_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, migrated_db: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    load_limits(migrated_db)
    record_success(migrated_db, NOW - timedelta(minutes=10))
    write_daily(migrated_db, datetime(2026, 10, 1), [5.0] * 50)  # 95 GB of 100 by Nov 20
    assert run(capsys, "recommend", "--now", NOW_ARG)[0] == 0
    code, lines = status(capsys)
    assert code == 1
    (line,) = failures(lines)
    assert line.startswith(
        "FAIL  services: VERCEL_BANDWIDTH/BANDWIDTH_GB CRITICAL at 95% of 100 GB on "
        "vercel-hobby (95 GB) since "
    )
    assert "the forecast reaches the limit around 2026-11-2" in line


def test_limits_that_differ_from_the_file_fail(
    capsys: pytest.CaptureFixture[str], healthy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute(
        healthy,
        """UPDATE "InfrastructureLimit" SET "limitValue" = 200
           WHERE service = 'VERCEL_BANDWIDTH' AND plan = 'vercel-hobby'""",
    )
    execute(healthy, """DELETE FROM "InfrastructureLimit" WHERE plan = 'upstash-payg'""")
    code, lines = status(capsys)
    assert code == 1
    (line,) = failures(lines)
    assert line.startswith(
        "FAIL  limits: InfrastructureLimit does not match limits.yaml (41 rows): "
    )
    assert "1 different (VERCEL_BANDWIDTH/BANDWIDTH_GB/vercel-hobby)" in line
    assert "missing (VERCEL_KV/" in line
    assert line.endswith("(run `pulumi up`; `python -m jobs limits diff` shows each change)")
    # In CI the limits are loaded by the deploy workflow.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (line,) = failures(status(capsys)[1])
    assert line.endswith(
        "(run the deploy workflow (pulumi up), see docs/operations.md; "
        "`python -m jobs limits diff` shows each change)"
    )


def test_a_missing_table_fails_and_its_section_is_not_read(
    capsys: pytest.CaptureFixture[str], healthy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute(healthy, 'DROP TABLE "CollectionWatermark"')
    code, lines = status(capsys)
    assert code == 1
    # The advice fits where status runs: here a DATABASE_URL outside CI.
    assert failures(lines) == [
        'FAIL  schema: table "CollectionWatermark" is missing (run `pulumi up` (or '
        "`python -m jobs schema up` for a database Pulumi does not manage))"
    ]
    assert 'warn  sources: not checked: table "CollectionWatermark" is missing' in lines
    monkeypatch.setenv("CI", "true")
    assert failures(status(capsys)[1]) == [
        'FAIL  schema: table "CollectionWatermark" is missing (run the deploy workflow '
        "(pulumi up), see docs/operations.md)"
    ]


def test_json_has_stable_keys_and_the_same_verdict(
    capsys: pytest.CaptureFixture[str], healthy: str
) -> None:
    execute(healthy, 'DROP INDEX "InfrastructureMetric_timestamp_idx"')
    code, out, _ = run(capsys, "status", "--now", NOW_ARG, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert list(report) == [
        "healthy",
        "checkedAt",
        "staleAfterHours",
        "period",
        "problems",
        "checks",
        "schema",
        "limits",
        "sources",
        "lastRun",
        "services",
        "notifications",
        "plans",
        "budgets",
    ]
    assert report["healthy"] is False
    assert report["checkedAt"] == "2026-11-20T12:30:00Z"
    # The Pacific billing month (Vercel's), as UTC instants.
    assert report["period"] == {"start": "2026-11-01T07:00:00Z", "end": "2026-12-01T08:00:00Z"}
    assert (
        len(report["problems"]) == 1
        and "InfrastructureMetric_timestamp_idx" in report["problems"][0]
    )
    metric = next(o for o in report["schema"] if o["name"] == "InfrastructureMetric")
    assert metric["state"] == "differs" and len(metric["changes"]) == 1
    assert report["limits"]["rows"] == 41 and report["limits"]["matchesFile"] is True
    assert report["sources"][0]["source"] == SOURCE and report["sources"][0]["level"] == "ok"
    bandwidth = next(s for s in report["services"] if s["service"] == "VERCEL_BANDWIDTH")
    assert bandwidth["state"] == "WARNING" and bandwidth["utilisation"] == pytest.approx(0.798)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limits", "nope.yaml"], "nope.yaml"),
        (["--source-stale-after-hours", "0"], "must be greater than 0"),
        (["--now", "yesterday"], "is not an ISO 8601 time"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "status", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_recent_failure_after_a_success_warns_without_failing() -> None:
    source = checks.SourceState(
        source="neon:p1",
        collected_through=datetime(2026, 11, 20),
        last_attempt_at=NOW,
        last_success_at=NOW - timedelta(minutes=20),
        last_error=None,
        last_error_at=None,
    )
    findings = checks.Findings(
        checked_at=NOW,
        period=BillingPeriod.containing(NOW),
        objects=(checks.ObjectState("InfrastructureMetric", "table", exists=True),),
        limits=checks.LimitsState("limits.yaml", {"vercel-hobby": 1}, 1),
        sources=(source,),
        last_run=None,
        assessments=(),
    )
    verdict = checks.judge(findings, timedelta(hours=2), ADVICE)
    assert verdict.healthy
    failing = checks.SourceState(
        **{**source.__dict__, "last_error": "HTTP 503", "last_error_at": NOW - timedelta(minutes=5)}
    )
    verdict = checks.judge(
        checks.Findings(**{**findings.__dict__, "sources": (failing,)}),
        timedelta(hours=2),
        ADVICE,
    )
    assert verdict.healthy
    (warned,) = [c for c in verdict.checks if c.area == "sources"]
    assert warned.level is checks.Level.WARN and warned.message.endswith("HTTP 503")
    # Past the threshold the same source fails.
    late = checks.judge(findings, timedelta(minutes=15), ADVICE)
    assert not late.healthy and "is stale" in late.problems[0]


def test_the_verdict_gives_the_advice_it_is_given() -> None:
    """judge reads no environment: the command passes what fits where it runs."""
    findings = checks.Findings(
        checked_at=NOW,
        period=BillingPeriod.containing(NOW),
        objects=(checks.ObjectState("CollectionRun", "table", exists=False),),
        limits=checks.LimitsState("limits.yaml", {}, 1, added=("VERCEL_KV/KV_STORAGE_MB/x",)),
        sources=(),
        last_run=None,
        assessments=(),
    )
    assert checks.judge(findings, timedelta(hours=2), ADVICE).problems == [
        'schema: table "CollectionRun" is missing (run the schema fix)',
        "limits: InfrastructureLimit does not match limits.yaml (1 rows): "
        "1 missing (VERCEL_KV/KV_STORAGE_MB/x) "
        "(run the limits fix; `python -m jobs limits diff` shows each change)",
    ]


def test_role_defaults_advice_names_the_role_as_sql_reads_it() -> None:
    plain = checks.RoleDefaults("monitoring_jobs", ("lock_timeout=1", "statement_timeout=1"))
    assert plain.message.endswith(
        "as the owner, ALTER ROLE monitoring_jobs RESET lock_timeout; "
        "ALTER ROLE monitoring_jobs RESET statement_timeout"
    )
    assert 'ALTER ROLE "Jobs""x" RESET statement_timeout' in (
        checks.RoleDefaults('Jobs"x', ("statement_timeout=1",)).message
    )
