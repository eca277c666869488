"""The jobs' least-privileged role: what the program declares (pulumi-postgresql, under mocks),
and what those declarations allow and refuse on a real PostgreSQL (through grants_sql)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pulumi
import pytest
from psycopg import sql

from infra.roles import FUNCTION_PRIVILEGES, TABLE_PRIVILEGES, UPDATE_COLUMNS
from jobs.cli import main
from jobs.db import connect
from jobs.limits import store as limits_store
from jobs.limits.loader import load as load_limits
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema.plan import FUNCTION_NAMES, TABLE_NAMES
from tests.support.fake_apis import FakeApis
from tests.support.fake_receivers import FakeReceivers
from tests.support.faults import with_statement_timeout
from tests.support.grants_sql import DEFAULT_PRIVILEGES, GRANT, ROLE, SECRET_SIG, Declared, unwrap
from tests.support.program import run_program
from tests.support.roles_db import Declaring, RoleDatabase, declare, provisioned
from tests.support.workload import Workload

OWNER_PASSWORD = "owner-s3cret-password"
OWNER_DSN = f"postgresql://migrator:{OWNER_PASSWORD}@db.internal:6543/monitoring?sslmode=require"
JOBS_PASSWORD = "jobs-s3cret-password-42"
PROVIDER = "pulumi:providers:postgresql"
WRITES = {"INSERT", "UPDATE", "DELETE", "TRUNCATE"}


def declared(**config: str) -> list[Declared]:
    values = {"databaseUrl": OWNER_DSN, "jobsPassword": JOBS_PASSWORD} | config
    return declare(values, secret_keys=("databaseUrl", "jobsPassword"))


def one(resources: list[Declared], type_: str, name: str | None = None) -> Declared:
    (found,) = [r for r in resources if r.type == type_ and (name is None or r.name == name)]
    return found


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get(SECRET_SIG))


# -- what the program declares ---------------------------------------------------------


def test_the_jobs_role_logs_in_and_may_do_nothing_else() -> None:
    role = one(declared(), ROLE)
    inputs = dict(role.inputs)
    assert is_secret(inputs.pop("password"))
    assert unwrap(role.inputs["password"]) == JOBS_PASSWORD
    assert inputs == {
        "name": "monitoring_jobs",
        "login": True,
        "superuser": False,
        "createDatabase": False,
        "createRole": False,
        "replication": False,
        "bypassRowLevelSecurity": False,
        "inherit": False,
        "connectionLimit": 10,
        "roles": [],
        "searchPaths": ["public"],
    }
    assert one(declared(jobsRole="ci_jobs", schema="monitoring"), ROLE).inputs["searchPaths"] == [
        "monitoring"
    ]


def test_each_table_gets_exactly_the_privileges_its_jobs_need() -> None:
    grants = {r.name: r.inputs for r in declared() if r.type == GRANT}
    tables = {
        g["objects"][0]: g["privileges"] for g in grants.values() if g["objectType"] == "table"
    }
    assert tables == {
        "InfrastructureMetric": ["SELECT"],
        "CollectionWatermark": ["SELECT", "INSERT"],
        "CollectionRun": ["INSERT"],
        "UsageAssessment": ["SELECT", "INSERT"],
        "PlanPurchase": ["SELECT", "INSERT"],
        "UpgradeRecommendation": ["SELECT", "INSERT"],
        "InfrastructureLimit": ["SELECT"],
        "NotificationLog": ["SELECT", "INSERT"],
    }
    assert set(tables) == set(TABLE_NAMES)  # no table left to chance
    columns = {
        g["objects"][0]: (g["privileges"], g["columns"])
        for g in grants.values()
        if g["objectType"] == "column"
    }
    assert columns == {t: (["UPDATE"], list(c)) for t, c in UPDATE_COLUMNS.items()}
    assert not any("UPDATE" in p for p in tables.values())  # UPDATE only ever by column
    functions = {
        g["objects"][0]: g["privileges"] for g in grants.values() if g["objectType"] == "function"
    }
    assert functions == {"merge_metrics": ["EXECUTE"]}
    assert set(functions) <= set(FUNCTION_NAMES)
    public = grants.pop("roles-public-database")
    assert (public["role"], public["objectType"], public["privileges"]) == (
        "public",
        "database",
        ["CONNECT"],  # PostgreSQL's default for PUBLIC holds TEMPORARY too
    )
    for grant in grants.values():
        assert grant["database"] == "monitoring" and grant["role"] == "monitoring_jobs"
        never = {"TRUNCATE", "CREATE", "REFERENCES", "TRIGGER", "DELETE", "TEMPORARY"}
        assert not never & set(grant["privileges"])
        assert "withGrantOption" not in grant
        if grant["objectType"] in ("table", "column", "function"):
            assert grant["schema"] == "public" and len(grant["objects"]) == 1
    assert grants["roles-jobs-database"]["privileges"] == ["CONNECT"]
    schema_grant = grants["roles-jobs-schema"]
    assert (schema_grant["objectType"], schema_grant["privileges"]) == ("schema", ["USAGE"])
    future = one(declared(), DEFAULT_PRIVILEGES).inputs
    assert future == {
        "database": "monitoring",
        "schema": "public",
        "owner": "migrator",
        "role": "monitoring_jobs",
        "objectType": "table",
        "privileges": ["SELECT"],
    }


def test_table_grants_follow_their_tables() -> None:
    """Each grant waits for its table, and is replaced with it (a rebuilt table gets its
    grants back in the same `pulumi up`); all go through the owner's provider."""
    monitor, _ = run_program(
        Declaring(),
        {"databaseUrl": OWNER_DSN, "jobsPassword": JOBS_PASSWORD},
        ("databaseUrl", "jobsPassword"),
    )
    (provider,) = monitor.registered(PROVIDER)
    provider_ref = f"{monitor.urns[provider.name]}::{provider.name}-id"
    (role,) = monitor.registered(ROLE)
    for request in monitor.registered(GRANT):
        assert request.provider == provider_ref
        if request.name == "roles-public-database":
            # PUBLIC's grant waits for no role, and is kept on destroy (deleting it would
            # revoke PUBLIC's CONNECT as well).
            assert request.retainOnDelete
            continue
        assert not request.retainOnDelete
        assert monitor.urns[role.name] in request.dependencies
        target = request.name.removeprefix("roles-jobs-").removesuffix("-update")
        if target in (*TABLE_PRIVILEGES, *FUNCTION_PRIVILEGES):
            assert monitor.urns[target] in request.dependencies
            assert list(request.replace_with) == [monitor.urns[target]]
            # Deleting a grant revokes its privileges: the old one must go first.
            assert request.deleteBeforeReplace
    (future,) = monitor.registered(DEFAULT_PRIVILEGES)
    assert {monitor.urns[t] for t in TABLE_PRIVILEGES} <= set(future.dependencies)
    assert role.provider == provider_ref


def test_the_provider_connects_as_the_owner_and_only_its_password_is_secret() -> None:
    provider = one(declared(), PROVIDER)
    inputs = dict(provider.inputs)
    assert is_secret(inputs.pop("password"))
    assert unwrap(provider.inputs["password"]) == OWNER_PASSWORD
    assert OWNER_PASSWORD not in repr(inputs)
    assert {k: inputs[k] for k in ("host", "port", "username", "database", "sslmode")} == {
        "host": "db.internal",
        "port": "6543",
        "username": "migrator",
        "database": "monitoring",
        "sslmode": "require",
    }
    assert inputs["superuser"] == "false"


BAD_CONFIG = {
    # id: (config over the good one, keys set without --secret, start of the message)
    "no-password": ({"jobsPassword": ""}, (), "stack config jobsPassword is not set: run `pulumi"),
    "plain-password": (
        {},
        ("jobsPassword",),
        "stack config jobsPassword is stored in plain text in the stack file: set it again",
    ),
    "short-password": ({"jobsPassword": "short-pw"}, (), "stack config jobsPassword is shorter"),
    "role-injection": (
        {"jobsRole": 'jobs"; DROP ROLE owner; --'},
        (),
        "stack config jobsRole 'jobs\"; DROP ROLE owner; --' is not a plain PostgreSQL identifier",
    ),
    "role-quote": ({"jobsRole": "o'brien"}, (), 'stack config jobsRole "o\'brien" is not a plain'),
    "role-reserved": (
        {"jobsRole": "pg_monitor"},
        (),
        "stack config jobsRole 'pg_monitor' is reserved",
    ),
    "role-public": ({"jobsRole": "PUBLIC"}, (), "stack config jobsRole 'PUBLIC' is reserved"),
    "schema-injection": (
        {"schema": 'public"; DROP TABLE "InfrastructureLimit"; --'},
        (),
        'stack config schema \'public"; DROP TABLE "InfrastructureLimit"; --\' is not a plain',
    ),
    "dsn-without-user": (
        {"databaseUrl": "postgresql://db.internal/monitoring"},
        (),
        "stack config databaseUrl names no user",
    ),
    "plain-dsn": (
        {},
        ("databaseUrl",),
        "stack config databaseUrl holds a password in plain text in the stack file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CONFIG))
def test_bad_role_config_stops_the_program_with_one_line_and_declares_nothing(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, plain, message = BAD_CONFIG[case]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    values = {"databaseUrl": OWNER_DSN, "jobsPassword": JOBS_PASSWORD} | config
    secrets = tuple(k for k in ("databaseUrl", "jobsPassword") if k not in plain)
    mocks = Declaring()
    with pytest.raises(pulumi.RunError) as failed:
        run_program(mocks, values, secret_keys=secrets)
    text = str(failed.value)
    assert text.startswith(message) and "\n" not in text
    assert JOBS_PASSWORD not in text and OWNER_PASSWORD not in text
    assert mocks.declared == []


# -- what the declarations allow, on a real PostgreSQL ----------------------------------


@pytest.fixture(scope="module")
def roles_db(pg_admin_dsn: str) -> Iterator[RoleDatabase]:
    with provisioned(pg_admin_dsn) as db:
        yield db


def scram_matches(verifier: str, password: str) -> bool:
    """Does the SCRAM-SHA-256 verifier PostgreSQL stored come from ``password``?"""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$", 1)
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    computed = base64.b64encode(hashlib.sha256(client_key).digest()).decode()
    return method == "SCRAM-SHA-256" and hmac.compare_digest(computed, stored_key)


def test_the_declared_role_exists_as_declared(pg_admin_dsn: str, roles_db: RoleDatabase) -> None:
    with psycopg.connect(pg_admin_dsn) as admin:
        row = admin.execute(
            """SELECT r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit,
                      r.rolreplication, r.rolbypassrls, r.rolconfig, a.rolpassword,
                      r.rolconnlimit
               FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname = %s""",
            [roles_db.jobs],
        ).fetchone()
    assert row is not None
    assert row[:7] == (True, False, False, False, False, False, False)
    assert row[7] == ["search_path=public"]
    assert row[9] == 10  # connections a leaked credential may hold
    assert scram_matches(row[8], roles_db.jobs_password)
    assert not scram_matches(row[8], roles_db.jobs_password + "x")
    assert any("PASSWORD '***'" in s for s in roles_db.ran)


FORBIDDEN = {
    "drop table": 'DROP TABLE "InfrastructureMetric"',
    "drop type": 'DROP TYPE "MetricType" CASCADE',
    "alter table": 'ALTER TABLE "UpgradeRecommendation" ADD COLUMN x int',
    "alter type": """ALTER TYPE "MetricType" ADD VALUE 'X'""",
    "create index": 'CREATE INDEX ON "InfrastructureMetric" (value)',
    "create table": "CREATE TABLE public.intruder (x int)",
    "create schema": "CREATE SCHEMA intruder",
    **{f"truncate {t}": f'TRUNCATE "{t}"' for t in TABLE_NAMES},
    **{f"delete {t}": f'DELETE FROM "{t}"' for t in TABLE_NAMES},
    # Metric rows are written only through merge_metrics (SECURITY DEFINER).
    "insert a metric": """INSERT INTO "InfrastructureMetric" (service, "metricType", value,
        unit, "timestamp", "windowEnd", source) VALUES ('VERCEL_BLOB', 'STORAGE_MB', 1, 'MB',
        '2026-01-01', '2026-01-02', 'forged')""",
    "change a metric value": """UPDATE "InfrastructureMetric" SET value = value""",
    "temporary table": "CREATE TEMP TABLE scratch (x int)",
    "temporary function": "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "call the review guard": "SELECT guard_review_history()",
    "insert limit": """INSERT INTO "InfrastructureLimit" (service, "metricType", plan,
        "limitValue", unit) VALUES ('VERCEL_BLOB', 'STORAGE_MB', 'evil', 1, 'MB')""",
    "update limit": """UPDATE "InfrastructureLimit" SET "limitValue" = 1e12""",
    "read runs": 'SELECT * FROM "CollectionRun"',
    "raise itself": "ALTER ROLE CURRENT_USER CREATEDB",
    # UPDATE only of the columns the jobs set: never a row's identity, id or createdAt.
    "move a window": """UPDATE "InfrastructureMetric" SET "timestamp" = '2001-01-01'""",
    "rename a source": """UPDATE "InfrastructureMetric" SET source = 'forged'""",
    "backdate a metric": """UPDATE "InfrastructureMetric" SET "createdAt" = '2001-01-01'""",
    "re-key a watermark": """UPDATE "CollectionWatermark" SET source = 'forged'""",
    "move an assessment": """UPDATE "UsageAssessment" SET "periodStart" = '2001-01-01'""",
    "retarget advice": """UPDATE "UpgradeRecommendation" SET "recommendedPlan" = 'x'""",
    "re-id advice": """UPDATE "UpgradeRecommendation" SET id = 'forged'""",
    "extend advice": """UPDATE "UpgradeRecommendation" SET "expiresAt" = '2999-01-01'""",
    "rewrite runs": """UPDATE "CollectionRun" SET status = 'ok'""",
    # Without table-level UPDATE or DELETE, no lock stronger than ROW EXCLUSIVE.
    **{
        f"lock {t} {mode}": f'LOCK TABLE "{t}" IN {mode} MODE'
        for t in TABLE_NAMES
        for mode in ("SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE")
    },
}


@pytest.mark.parametrize("statement", list(FORBIDDEN.values()), ids=list(FORBIDDEN))
def test_the_jobs_role_is_refused_ddl_deletes_truncates_and_limit_writes(
    roles_db: RoleDatabase, statement: str
) -> None:
    with psycopg.connect(roles_db.jobs_dsn) as conn:  # in a transaction: LOCK needs one
        assert conn.execute("SELECT current_user").fetchone() == (roles_db.jobs,)
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(statement)
        conn.rollback()
    assert refused.value.sqlstate == "42501", refused.value  # insufficient_privilege


ALLOWED = {
    # what docs/security.md says remains possible for the jobs role
    "write metric windows": """SELECT * FROM merge_metrics('{VERCEL_BLOB}', '{STORAGE_MB}',
        '{1}', '{MB}', '{2026-01-01}', '{2026-01-02}', '{forged}', '{""}', '[{}]')""",
    "lock rows": 'SELECT id FROM "UpgradeRecommendation" FOR UPDATE',
    "row exclusive lock": 'LOCK TABLE "UpgradeRecommendation" IN ROW EXCLUSIVE MODE',
    "own password": "ALTER ROLE CURRENT_USER PASSWORD 'changed-by-a-thief'",
    "own session defaults": "ALTER ROLE CURRENT_USER SET work_mem = '64kB'",
    "advisory lock": "SELECT pg_advisory_lock(1)",
}


@pytest.mark.parametrize("statement", list(ALLOWED.values()), ids=list(ALLOWED))
def test_what_the_jobs_role_may_still_do_is_what_the_docs_say(
    roles_db: RoleDatabase, statement: str
) -> None:
    documented = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
    section = documented.split("### What the jobs role can still do")[1].split("\n#")[0]
    name = next(k for k, v in ALLOWED.items() if v == statement)
    assert f"**{name}**" in section, f"docs/security.md does not list {name!r}"
    with psycopg.connect(roles_db.jobs_dsn) as conn:
        conn.execute(statement)
        conn.rollback()  # nothing kept; ALTER ROLE is transactional too


def test_merge_metrics_runs_as_the_owner_on_a_fixed_search_path(roles_db: RoleDatabase) -> None:
    """The one function the jobs role writes metrics through: SECURITY DEFINER, its
    search_path pinned (pg_temp last), executable by the jobs role but not by PUBLIC."""
    with psycopg.connect(roles_db.owner_dsn) as conn:
        row = conn.execute(
            """SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner),
                      EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
               FROM pg_proc p WHERE p.proname = 'merge_metrics'"""
        ).fetchone()
    assert row == (True, ["search_path=public, pg_temp"], roles_db.owner, False)
    with psycopg.connect(roles_db.jobs_dsn) as conn:
        written = conn.execute(ALLOWED["write metric windows"]).fetchone()
        assert written == (1, 0, 0)
        stored = conn.execute(
            """SELECT source, value FROM "InfrastructureMetric" WHERE source = 'forged'"""
        ).fetchall()
        assert stored == [("forged", 1.0)]
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="differ in length"):
            conn.execute(
                """SELECT * FROM merge_metrics('{VERCEL_BLOB,VERCEL_BLOB}', '{STORAGE_MB}',
                '{1}', '{MB}', '{2026-01-01}', '{2026-01-02}', '{forged}', '{""}', '[{}]')"""
            )
        conn.rollback()


def test_tables_the_owner_adds_later_are_readable_but_not_writable(roles_db: RoleDatabase) -> None:
    with psycopg.connect(roles_db.owner_dsn) as owner:
        owner.execute("CREATE TABLE later (x int)")
        owner.execute("INSERT INTO later VALUES (1)")
    with psycopg.connect(roles_db.jobs_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT x FROM later").fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO later VALUES (2)")


@pytest.fixture
def jobs_db(pg_admin_dsn: str) -> Iterator[RoleDatabase]:
    with provisioned(pg_admin_dsn) as db:
        with psycopg.connect(db.owner_dsn) as conn:  # as pulumi up writes them
            for row in load_limits(DEFAULT_LIMITS_FILE).rows():
                limits_store.upsert(conn, "public", row, "pulumi:test")
        yield db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_jobs_do_their_whole_work_as_the_jobs_role(
    jobs_db: RoleDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in [k for k in os.environ if k.startswith(("VERCEL_", "NEON_", "UPSTASH_"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("DATABASE_URL", jobs_db.jobs_dsn)
    work = Workload.for_today()
    with FakeApis() as apis:
        work.populate(apis)
        for name, value in work.env(apis).items():
            monkeypatch.setenv(name, value)
        code, out, err = run(capsys, "collect")
        assert (code, err) == (0, ""), out
    code, out, err = run(capsys, "collect", "--focus-file", str(work.focus_file(tmp_path)))
    assert (code, err) == (0, ""), out
    code, out, err = run(capsys, *work.recommend_args())
    assert (code, err) == (0, "")
    assert "created: 0" not in out, out
    assert run(capsys, "backtest", "--now", work.now)[0] == 0
    code, out, _ = run(capsys, "recommendations", "list", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert listed, "recommend opened no recommendation"
    first = listed[0]["id"]
    assert run(capsys, "recommendations", "show", first)[0] == 0
    assert run(capsys, "recommendations", "review", first, "--by", "alice")[0] == 0
    code, out, err = run(capsys, "recommendations", "approve", first, "--by", "bob", "--note", "ok")
    assert (code, err) == (0, ""), err
    assert out == f"recommendation {first}: REVIEWED -> APPROVED by bob\n"
    code, out, err = run(capsys, "limits", "diff")
    assert (code, err) == (0, ""), err
    # Notifications, as this role: the log is read, written and claimed.
    with FakeReceivers() as receivers:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receivers.slack_url)
        monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        code, out, err = run(capsys, "notify", "--now", work.now)
        assert (code, err) == (0, ""), out
        assert receivers.slack_messages(), out
    # The scheduled workflow's last step, as this role too.
    report = tmp_path / "report.html"
    code, _, err = run(capsys, "report", "--out", str(report), "--now", work.now)
    assert (code, err) == (0, ""), err
    assert "VERCEL_BANDWIDTH" in report.read_text(encoding="utf-8")
    with psycopg.connect(jobs_db.owner_dsn) as owner:
        counts = {
            table: owner.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for table in TABLE_NAMES
        }
    assert all(counts.values()), counts  # every table written (limits by the owner)


SABOTAGE = {
    # what the jobs role may set on itself, each enough to break every later job
    "statement_timeout": "1",
    "lock_timeout": "1",
    "idle_in_transaction_session_timeout": "1",
    "idle_session_timeout": "1",
    "default_transaction_read_only": "on",
    "default_transaction_isolation": "serializable",
    "DateStyle": "SQL, DMY",
    "IntervalStyle": "sql_standard",
    "timezone": "Pacific/Kiritimati",
}


def test_the_jobs_shrug_off_session_defaults_their_role_set_on_itself(
    jobs_db: RoleDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with psycopg.connect(jobs_db.jobs_dsn, autocommit=True) as conn:
        for name, value in SABOTAGE.items():
            conn.execute(
                sql.SQL("ALTER ROLE CURRENT_USER SET {} = {}").format(
                    sql.Identifier(name), sql.Literal(value)
                )
            )
    with psycopg.connect(jobs_db.owner_dsn) as owner:  # every new session gets them
        (settings,) = owner.execute(
            """SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r
               ON r.oid = s.setrole WHERE r.rolname = %s AND s.setdatabase = 0""",
            [jobs_db.jobs],
        ).fetchone()  # type: ignore[misc]
    assert "statement_timeout=1" in settings and "default_transaction_read_only=on" in settings
    for name in [k for k in os.environ if k.startswith(("VERCEL_", "NEON_", "UPSTASH_"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("DATABASE_URL", jobs_db.jobs_dsn)
    work = Workload.for_today()
    code, out, err = run(capsys, "collect", "--focus-file", str(work.focus_file(tmp_path)))
    assert (code, err) == (0, ""), out
    code, out, err = run(capsys, *work.recommend_args())
    assert (code, err) == (0, ""), err
    code, _, err = run(capsys, "report", "--out", str(tmp_path / "r.html"), "--now", work.now)
    assert (code, err) == (0, ""), err
    with psycopg.connect(jobs_db.owner_dsn) as owner:
        assert owner.execute('SELECT count(*) FROM "UsageAssessment"').fetchone() != (0,)

    # status (as the owner) says so, with the statements that undo it.
    monkeypatch.setenv("DATABASE_URL", jobs_db.owner_dsn)
    _, out, _ = run(capsys, "status", "--now", work.now)
    (line,) = [x for x in out.splitlines() if x.startswith("warn  roles: ")]
    assert f"role {jobs_db.jobs} has session defaults set on itself: " in line
    assert "statement_timeout=1" in line and "search_path" not in line
    resets = line.split("as the owner, ", 1)[1].split("; ")
    assert len(resets) == len(SABOTAGE)
    with psycopg.connect(jobs_db.owner_dsn, autocommit=True) as owner:
        for statement in resets:
            owner.execute(statement.encode())  # what status printed, as printed
    _, out, _ = run(capsys, "status", "--now", work.now)
    assert "roles:" not in out
    with psycopg.connect(jobs_db.jobs_dsn) as conn:  # its search_path is still the schema
        assert conn.execute("SHOW search_path").fetchone() == ("public",)


def test_the_jobs_session_settings_yield_to_the_database_and_the_url(migrated_db: str) -> None:
    with connect(migrated_db) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("10min",)
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        (name,) = conn.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET lock_timeout = '7s'").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET statement_timeout = '9s'").format(sql.Identifier(name))
        )
        conn.commit()
    with connect(migrated_db) as conn:  # the owner's ALTER DATABASE is kept
        assert conn.execute("SHOW lock_timeout").fetchone() == ("7s",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("9s",)
    with connect(with_statement_timeout(migrated_db, 5000)) as conn:  # the URL wins
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5s",)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("7s",)
        assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)
