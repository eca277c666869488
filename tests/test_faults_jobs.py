"""Fault injection over collect -> recommend: each fault, then a re-run, must leave the
metrics and recommendation tables exactly as a run without faults leaves them (full table
contents minus ids and write times, as multisets: no row lost, none duplicated)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo, sql

from jobs.cli import main
from jobs.collect.focus import VERCEL_BILLING_SOURCE
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN
from tests.support import faults, pg_server
from tests.support.fake_apis import FakeApis, Reply
from tests.support.workload import Workload, snapshot

pytestmark = pytest.mark.fault
ROOT = Path(__file__).resolve().parent.parent
REFUSED = "postgresql://owner:refused-pw-1234@127.0.0.1:1/monitoring"  # nothing listens on 1
SOURCE_VARS = ("VERCEL_", "NEON_", "UPSTASH_", "COLLECT_", "GITHUB_STEP_SUMMARY")


@pytest.fixture(scope="module")
def work() -> Workload:
    return Workload.for_today()


@pytest.fixture
def apis(work: Workload) -> Iterator[FakeApis]:
    with FakeApis() as fake:
        work.populate(fake)
        yield fake


@pytest.fixture
def job_env(
    monkeypatch: pytest.MonkeyPatch, work: Workload, apis: FakeApis, tmp_path: Path
) -> dict[str, str]:
    """The workload's sources in this process's environment (and for the job processes)."""
    for name in [k for k in os.environ if k.startswith(SOURCE_VARS)]:
        monkeypatch.delenv(name)
    env = work.env(apis) | {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def jobs(dsn: str, *argv: str) -> int:
    """A command in this process, against ``dsn``."""
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = dsn
    try:
        return main(list(argv))
    finally:
        if saved is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = saved


def job_process(dsn: str, *argv: str) -> subprocess.Popen[str]:
    """A command in its own process (to be killed, signalled, or cut off from its server)."""
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", *argv],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": dsn},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)  # a hang guard, not a timing assertion
    return process.returncode, out, err


def collect_all(dsn: str, work: Workload, directory: Path) -> None:
    assert jobs(dsn, "collect") == 0
    assert jobs(dsn, "collect", "--focus-file", str(work.focus_file(directory))) == 0


def complete(dsn: str, work: Workload, directory: Path) -> None:
    """The whole flow without faults: collect, import, recommend."""
    collect_all(dsn, work, directory)
    assert jobs(dsn, *work.recommend_args()) == 0


def count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(row.fetchone()[0])  # type: ignore[index]


@pytest.fixture(scope="module")
def baseline(
    pg_admin_dsn: str,
    schema_template: str,
    work: Workload,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[tuple]]:
    """The tables after one run without faults."""
    name = "t_faults_baseline"
    dsn = conninfo.make_conninfo(pg_admin_dsn, dbname=name)
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(schema_template)
            )
        )
    saved = {k: v for k, v in os.environ.items() if k.startswith(SOURCE_VARS)}
    try:
        for key in saved:
            del os.environ[key]
        with FakeApis() as fake:
            work.populate(fake)
            os.environ.update(work.env(fake))
            complete(dsn, work, tmp_path_factory.mktemp("baseline"))
        taken = snapshot(dsn)
    finally:
        for key in [k for k in os.environ if k.startswith(SOURCE_VARS)]:
            del os.environ[key]
        os.environ.update(saved)
        with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    assert all(
        taken[t] for t in ("InfrastructureMetric", "UsageAssessment", "UpgradeRecommendation")
    )
    return taken


# -- faults the job meets in this process -----------------------------------------------


def test_connection_refused_at_start(
    migrated_db: str,
    job_env: dict[str, str],
    apis: FakeApis,
    work: Workload,
    baseline: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["collect"], work.recommend_args()):
        assert jobs(REFUSED, *argv) == 1
        _, err = capsys.readouterr()
        assert err == (
            "error: cannot connect to PostgreSQL at owner@127.0.0.1:1/monitoring: "
            "Connection refused\n"
        )
    assert apis.calls("/") == []  # nothing fetched: the database comes first
    complete(migrated_db, work, tmp_path)
    assert snapshot(migrated_db) == baseline


def test_statement_timeout(
    migrated_db: str,
    job_env: dict[str, str],
    work: Workload,
    baseline: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    impatient = faults.with_statement_timeout(migrated_db, 300)
    with faults.holding_lock(migrated_db, "InfrastructureMetric"):
        assert jobs(impatient, "collect") == 1
    out, _ = capsys.readouterr()
    assert "canceling statement due to statement timeout" in out
    assert count(migrated_db, "InfrastructureMetric") == 0
    collect_all(migrated_db, work, tmp_path)
    with faults.holding_lock(migrated_db, "UpgradeRecommendation"):
        assert jobs(impatient, *work.recommend_args()) == 1
    _, err = capsys.readouterr()
    assert err == "error: recommend: canceling statement due to statement timeout\n"
    assert count(migrated_db, "UsageAssessment") == 0  # the run is one transaction
    assert jobs(migrated_db, *work.recommend_args()) == 0
    assert snapshot(migrated_db) == baseline


def test_disk_full(
    migrated_db: str,
    job_env: dict[str, str],
    work: Workload,
    baseline: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with faults.disk_full(migrated_db, "InfrastructureMetric"):
        assert jobs(migrated_db, "collect") == 1
    out, _ = capsys.readouterr()
    assert (
        "error vercel-billing: writing vercel-billing: the database server is out of disk "
        f"space ({faults.DISK_FULL_MESSAGE}); nothing was written"
    ) in out
    assert count(migrated_db, "InfrastructureMetric") == 0
    collect_all(migrated_db, work, tmp_path)
    with faults.disk_full(migrated_db, "UpgradeRecommendation", "INSERT"):
        assert jobs(migrated_db, *work.recommend_args()) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: recommend: the database server is out of disk space")
    assert count(migrated_db, "UsageAssessment") == 0
    assert jobs(migrated_db, *work.recommend_args()) == 0
    assert snapshot(migrated_db) == baseline


def test_api_connection_reset_mid_stream(
    migrated_db: str,
    job_env: dict[str, str],
    apis: FakeApis,
    work: Workload,
    baseline: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apis.script("/v1/billing", Reply(cut_after=10), Reply(cut_after=10))  # every attempt
    assert jobs(migrated_db, "collect") == 1
    out, _ = capsys.readouterr()
    assert "error vercel-billing: GET /v1/billing/charges: the response was cut short" in out
    with psycopg.connect(migrated_db) as conn:
        written = conn.execute(
            "SELECT count(*) FROM \"InfrastructureMetric\" WHERE source = 'vercel-billing'"
        ).fetchone()
    assert written == (0,)  # not the first ten lines either
    complete(migrated_db, work, tmp_path)
    assert snapshot(migrated_db) == baseline


def test_api_answering_garbage(
    migrated_db: str,
    job_env: dict[str, str],
    apis: FakeApis,
    work: Workload,
    baseline: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good_charges = list(apis.charges)
    apis.charges.insert(5, b"\x00\xff<html>502 Bad Gateway</html>\n")  # type: ignore[arg-type]
    apis.script("/v6/deployments", Reply(200, b"<html>maintenance</html>"))
    apis.script("/consumption_history", Reply(200, {"projects": "many", "pagination": []}))
    assert jobs(migrated_db, "collect") == 1
    out, _ = capsys.readouterr()
    assert "error vercel-billing: line 6 of the charges stream is not valid JSON" in out
    assert "error vercel-deployments: GET /v6/deployments: the response is not JSON" in out
    assert "error neon-org:org-1: consumption page 1: 'projects' should be list" in out
    assert count(migrated_db, "InfrastructureMetric") == 0
    apis.charges = good_charges
    complete(migrated_db, work, tmp_path)
    assert snapshot(migrated_db) == baseline


# -- faults that need the job in its own process ---------------------------------------


def test_sigterm_while_writing_rolls_the_source_back(
    migrated_db: str, job_env: dict[str, str], work: Workload, baseline: dict, tmp_path: Path
) -> None:
    """Blocked between a source's rows and its watermark (one transaction): SIGTERM leaves
    neither, the summary says so, the exit code is 128 + 15."""
    with faults.holding_lock(migrated_db, "CollectionWatermark"):
        job = job_process(migrated_db, "collect")
        faults.waiting_on_lock(migrated_db, 'INSERT INTO "CollectionWatermark"', job)
        job.send_signal(signal.SIGTERM)
        code, out, err = finish(job)
    assert code == 128 + signal.SIGTERM, err
    headline = out.splitlines()[0]
    assert headline.endswith(
        "interrupted by SIGTERM: stopped after 0 sources written whole; the rest collected "
        "nothing (the next run resumes from the watermarks)"
    )
    assert "interrupted by SIGTERM while writing: rolled back, nothing written" in out
    assert "interrupted by SIGTERM" in Path(job_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert count(migrated_db, "InfrastructureMetric") == 0  # no partial window
    assert faults.job_sessions(migrated_db) == 0
    complete(migrated_db, work, tmp_path)
    assert snapshot(migrated_db) == baseline


def test_sigterm_while_fetching_writes_only_the_sources_already_fetched(
    migrated_db: str,
    job_env: dict[str, str],
    apis: FakeApis,
    work: Workload,
    baseline: dict,
    tmp_path: Path,
) -> None:
    """Each source is written as soon as it is fetched: the slow billing source writes
    nothing, the ones already written stay whole (the re-run gives the baseline)."""
    apis.script("/v1/billing", Reply(delay=120))
    job = job_process(migrated_db, "collect")
    until_fetching(apis, job)
    job.send_signal(signal.SIGTERM)
    code, out, err = finish(job)
    assert code == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in out.splitlines()[0]
    assert "Traceback" not in err and "Task was destroyed" not in err
    with psycopg.connect(migrated_db) as conn:
        sources = {r[0] for r in conn.execute('SELECT DISTINCT source FROM "InfrastructureMetric"')}
        marks = {r[0] for r in conn.execute('SELECT source FROM "CollectionWatermark"')}
    assert VERCEL_BILLING_SOURCE not in sources and VERCEL_BILLING_SOURCE not in marks
    complete(migrated_db, work, tmp_path)
    assert snapshot(migrated_db) == baseline


def until_fetching(apis: FakeApis, job: subprocess.Popen[str]) -> None:
    """Until the slow request is being answered (the job is fetching)."""
    deadline = time.monotonic() + 120  # a hang guard
    while apis.in_flight == 0 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert apis.in_flight and job.poll() is None, "the job never started fetching"


def test_sigterm_during_recommend_writes_nothing(
    migrated_db: str, job_env: dict[str, str], work: Workload, baseline: dict, tmp_path: Path
) -> None:
    collect_all(migrated_db, work, tmp_path)
    with faults.holding_lock(migrated_db, "UpgradeRecommendation"):
        job = job_process(migrated_db, *work.recommend_args())
        faults.waiting_on_lock(migrated_db, 'INSERT INTO "UpgradeRecommendation"', job)
        job.send_signal(signal.SIGTERM)
        code, out, err = finish(job)
    assert (code, out) == (128 + signal.SIGTERM, "")
    assert err == "error: interrupted by SIGTERM: stopped, nothing half-written\n"
    assert count(migrated_db, "UsageAssessment") == 0
    assert jobs(migrated_db, *work.recommend_args()) == 0
    assert snapshot(migrated_db) == baseline


@pytest.fixture(scope="module")
def crash_server() -> Iterator[tuple[Path, str]]:
    """A server of its own, to be killed."""
    with pg_server.dedicated_server("postgres") as server:
        yield server


@pytest.fixture
def crash_db(crash_server: tuple[Path, str]) -> Iterator[str]:
    _, admin = crash_server
    name = "faults"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = conninfo.make_conninfo(admin, dbname=name)
    with psycopg.connect(dsn) as conn:
        for obj in SCHEMA_PLAN:
            migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, "public"))
    yield dsn


def killed_while_waiting(
    crash_server: tuple[Path, str], dsn: str, table: str, *argv: str
) -> tuple[int, str, str]:
    """Run ``argv`` until it waits to write ``table`` mid-transaction, then stop the server
    as a crash would; start it again. Returns what the job said."""
    data_dir, _ = crash_server
    with faults.holding_lock(dsn, table):
        job = job_process(dsn, *argv)
        try:
            faults.waiting_on_lock(dsn, f'INSERT INTO "{table}"', job)
            pg_server.crash(data_dir)
            result = finish(job)
        finally:
            if job.poll() is None:
                job.kill()
            pg_server.start_again(data_dir, "postgres")
    return result


def test_postgres_killed_mid_transaction(
    crash_server: tuple[Path, str],
    crash_db: str,
    job_env: dict[str, str],
    work: Workload,
    baseline: dict,
    tmp_path: Path,
) -> None:
    code, out, _ = killed_while_waiting(crash_server, crash_db, "CollectionWatermark", "collect")
    assert code == 1
    assert "lost the connection to PostgreSQL" in out
    assert count(crash_db, "InfrastructureMetric") == 0  # the open transaction left nothing
    collect_all(crash_db, work, tmp_path)
    code, _, err = killed_while_waiting(
        crash_server, crash_db, "UpgradeRecommendation", *work.recommend_args()
    )
    assert code == 1 and err.startswith("error: recommend: lost the connection to PostgreSQL")
    assert count(crash_db, "UsageAssessment") == 0
    assert jobs(crash_db, *work.recommend_args()) == 0
    assert snapshot(crash_db) == baseline
