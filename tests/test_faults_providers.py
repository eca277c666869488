"""Fault injection over the dynamic providers' create, update and delete, served as the engine
serves them: the server killed mid-transaction, connection refused, a statement timeout, a
full disk. Each failed operation leaves the database as it was before; retried, it leaves
the database exactly as the same operation without a fault does."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo, sql

from infra.limits import LimitRowProvider, row_inputs
from infra.provider import PROVIDER_VERSION, SqlObjectProvider
from jobs.limits import store
from jobs.limits.loader import load
from jobs.limits.model import VALUE_COLUMNS
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN
from tests.support import faults, pg_server
from tests.support.served_provider import ProviderCallFailed, ServedProvider

pytestmark = pytest.mark.fault
PLAN = {obj.name: obj for obj in SCHEMA_PLAN}
ENUMS = ("InfrastructureService", "MetricType")
SQL_TYPE = "pulumi-python:dynamic/postgres:SqlObject"
ROW_TYPE = "pulumi-python:dynamic/postgres:LimitRow"
ROW = load(DEFAULT_LIMITS_FILE).rows()[0]
CHANGED = dataclasses.replace(ROW, limit_value=ROW.limit_value * 2)
REFUSED = "postgresql://owner:refused-pw-1234@127.0.0.1:1/monitoring"
SCHEMA_LOCK = "infra-monitoring:schema"  # jobs.schema.migrate.LOCK_KEY
NOTE_COLUMN = '    "note"       TEXT,\n'


def table_props(name: str, deploy_sql: str | None = None) -> dict[str, Any]:
    obj = PLAN[name]
    return {
        "objectName": name,
        "kind": obj.kind.value,
        "schema": "public",
        "deploySql": deploy_sql or obj.deploy_sql(),
        "revertSql": obj.revert_sql(),
        "providerVersion": PROVIDER_VERSION,
    }


def with_note(name: str) -> str:
    """The table's deploy file with one more nullable column: an in-place migration."""
    text = PLAN[name].deploy_sql()
    anchor = '    "createdAt"'
    assert anchor in text
    return text.replace(anchor, NOTE_COLUMN + anchor, 1)


def migrated(dsn: str, names: tuple[str, ...]) -> None:
    with psycopg.connect(dsn) as conn:
        for name in names:
            migrate.apply(conn, migrate.ObjectSpec.from_plan(PLAN[name], "public"))


def one_metric(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """INSERT INTO "InfrastructureMetric" (service, "metricType", value, unit,
               "timestamp", "windowEnd", source)
               VALUES ('VERCEL_KV', 'STORAGE_MB', 12, 'MB', '2026-11-01', '2026-11-02', 't')"""
        )


def one_limit(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        stored, _ = store.upsert(conn, "public", ROW, "pulumi:test")
    return stored.id


@dataclass(frozen=True)
class Operation:
    """One provider call on a database prepared as earlier `pulumi up`s left it."""

    resource_type: str
    prepare: Callable[[str], dict[str, Any]]  # returns what the call needs (ids)
    call: Callable[[ServedProvider, dict[str, Any]], Any]
    waits_in: str  # text of the statement that waits behind the blocking lock
    block: Callable[[str], AbstractContextManager[Any]]
    disk_full: Callable[[str], AbstractContextManager[None]]


def _table_prepared(dsn: str, names: tuple[str, ...], rows: bool = False) -> dict[str, Any]:
    migrated(dsn, names)
    if rows:
        one_metric(dsn)
    return {}


def _limit_prepared(dsn: str, existing: bool) -> dict[str, Any]:
    migrated(dsn, tuple(PLAN))
    return {"id": one_limit(dsn)} if existing else {}


def _schema_lock(dsn: str) -> AbstractContextManager[Any]:
    return faults.holding_lock(dsn, SCHEMA_LOCK, "ADVISORY")


def _limit_lock(dsn: str) -> AbstractContextManager[Any]:
    return faults.holding_lock(dsn, "InfrastructureLimit")


def _limit_disk_full(dsn: str) -> AbstractContextManager[None]:
    return faults.disk_full(dsn, "InfrastructureLimit", "INSERT OR UPDATE OR DELETE")


OPERATIONS = {
    "create table": Operation(
        SQL_TYPE,
        lambda dsn: _table_prepared(dsn, ENUMS),
        lambda p, _: p.create(table_props("InfrastructureMetric")),
        "pg_advisory_xact_lock",
        _schema_lock,
        faults.ddl_disk_full,
    ),
    "update table": Operation(
        SQL_TYPE,
        lambda dsn: _table_prepared(dsn, (*ENUMS, "InfrastructureMetric"), rows=True),
        lambda p, _: p.update(
            "public.InfrastructureMetric",
            table_props("InfrastructureMetric"),
            table_props("InfrastructureMetric", with_note("InfrastructureMetric")),
        ),
        "pg_advisory_xact_lock",
        _schema_lock,
        faults.ddl_disk_full,
    ),
    "delete table": Operation(
        SQL_TYPE,
        lambda dsn: _table_prepared(dsn, (*ENUMS, "InfrastructureMetric"), rows=True),
        lambda p, _: p.delete(
            "public.InfrastructureMetric", p.with_provider(table_props("InfrastructureMetric"))
        ),
        "pg_advisory_xact_lock",
        _schema_lock,
        faults.ddl_disk_full,
    ),
    "create limit": Operation(
        ROW_TYPE,
        lambda dsn: _limit_prepared(dsn, existing=False),
        lambda p, _: p.create(row_inputs(ROW, "public")),
        "InfrastructureLimit",
        _limit_lock,
        _limit_disk_full,
    ),
    "update limit": Operation(
        ROW_TYPE,
        lambda dsn: _limit_prepared(dsn, existing=True),
        lambda p, ctx: p.update(
            ctx["id"], row_inputs(ROW, "public"), row_inputs(CHANGED, "public")
        ),
        "InfrastructureLimit",
        _limit_lock,
        _limit_disk_full,
    ),
    "delete limit": Operation(
        ROW_TYPE,
        lambda dsn: _limit_prepared(dsn, existing=True),
        lambda p, ctx: p.delete(ctx["id"], p.with_provider(row_inputs(ROW, "public"))),
        "InfrastructureLimit",
        _limit_lock,
        _limit_disk_full,
    ),
}

_CATALOG = """
SELECT CASE WHEN n.nspname LIKE 'infra\\_archive\\_%%' THEN 'archive' ELSE n.nspname END,
       c.relname, c.relkind::text,
       coalesce(string_agg(
           a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
           ', ' ORDER BY a.attnum), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = 'public' OR n.nspname LIKE 'infra\\_archive\\_%%'
GROUP BY 1, 2, 3
ORDER BY 1, 2
"""
_ENUMS = """
SELECT CASE WHEN n.nspname LIKE 'infra\\_archive\\_%%' THEN 'archive' ELSE n.nspname END,
       t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
GROUP BY 1, 2 ORDER BY 1, 2
"""
# The natural key and the columns limits.yaml decides.
_LIMIT_COLUMNS = ["service", "metricType", "plan", *VALUE_COLUMNS]


def state(dsn: str) -> dict[str, Any]:
    """Objects (with columns), enum labels, and the rows of both tables, wherever they are;
    archive schemas under one name (theirs holds the time of the run)."""
    with psycopg.connect(dsn) as conn:
        found: dict[str, Any] = {
            "objects": [tuple(r) for r in conn.execute(_CATALOG).fetchall()],
            "enums": [tuple(r) for r in conn.execute(_ENUMS).fetchall()],
        }
        for schema, table, _, _ in found["objects"]:
            if table not in ("InfrastructureMetric", "InfrastructureLimit"):
                continue
            actual = (
                schema
                if schema != "archive"
                else conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'infra%%archive%%'"
                ).fetchone()[0]
            )  # type: ignore[index]
            columns = _LIMIT_COLUMNS if table == "InfrastructureLimit" else ["value", "source"]
            rows = conn.execute(
                sql.SQL("SELECT {} FROM {}.{}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                    sql.Identifier(actual),
                    sql.Identifier(table),
                )
            ).fetchall()
            found[f"{schema}.{table}"] = sorted(rows, key=repr)
    return found


# -- where the providers run -------------------------------------------------------------


@dataclass
class Target:
    """A database the providers are configured with; recreated empty for every test."""

    admin_dsn: str
    name: str
    served: dict[str, ServedProvider]

    @property
    def dsn(self) -> str:
        return conninfo.make_conninfo(self.admin_dsn, dbname=self.name)

    def recreate(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            ident = sql.Identifier(self.name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def _serve(dsn: str) -> dict[str, ServedProvider]:
    served = {
        SQL_TYPE: ServedProvider(SqlObjectProvider(), resource_type=SQL_TYPE),
        ROW_TYPE: ServedProvider(LimitRowProvider(), resource_type=ROW_TYPE),
    }
    for provider in served.values():
        provider.configure({"databaseUrl": dsn})
    return served


@contextlib.contextmanager
def _target(admin_dsn: str, name: str) -> Iterator[Target]:
    target = Target(admin_dsn, name, {})
    target.recreate()
    target.served = _serve(target.dsn)
    try:
        yield target
    finally:
        for provider in target.served.values():
            provider.close()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def target(pg_admin_dsn: str) -> Iterator[Target]:
    with _target(pg_admin_dsn, "t_faults_providers") as found:
        yield found


@pytest.fixture(scope="module")
def refused() -> Iterator[dict[str, ServedProvider]]:
    served = _serve(REFUSED)
    yield served
    for provider in served.values():
        provider.close()


@pytest.fixture(scope="module")
def crash_target() -> Iterator[tuple[Path, Target]]:
    with (
        pg_server.dedicated_server("postgres") as (data_dir, admin),
        _target(admin, "faults") as found,
    ):
        yield data_dir, found


@pytest.fixture(scope="module")
def baselines(target: Target) -> dict[str, dict[str, Any]]:
    """Per operation, the database after it ran without a fault."""
    found = {}
    for name, op in OPERATIONS.items():
        target.recreate()
        op.call(target.served[op.resource_type], op.prepare(target.dsn))
        found[name] = state(target.dsn)
    return found


def prepared(target: Target, op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    target.recreate()
    context = op.prepare(target.dsn)
    return context, state(target.dsn)


names = list(OPERATIONS)


@pytest.mark.parametrize("name", names)
def test_connection_refused(
    name: str, target: Target, refused: dict[str, ServedProvider], baselines: dict
) -> None:
    op = OPERATIONS[name]
    context, before = prepared(target, op)
    with pytest.raises(ProviderCallFailed) as failed:
        op.call(refused[op.resource_type], context)
    assert "cannot connect to PostgreSQL at owner@127.0.0.1:1/monitoring" in failed.value.details
    assert state(target.dsn) == before
    op.call(target.served[op.resource_type], context)
    assert state(target.dsn) == baselines[name]


@pytest.mark.parametrize("name", names)
def test_statement_timeout(name: str, target: Target, baselines: dict) -> None:
    op = OPERATIONS[name]
    context, before = prepared(target, op)
    with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET statement_timeout = '300ms'").format(
                sql.Identifier(target.name)
            )
        )
    with op.block(target.dsn), pytest.raises(ProviderCallFailed) as failed:
        op.call(target.served[op.resource_type], context)
    assert "canceling statement due to statement timeout" in failed.value.details
    with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} RESET statement_timeout").format(sql.Identifier(target.name))
        )
    assert state(target.dsn) == before
    op.call(target.served[op.resource_type], context)
    assert state(target.dsn) == baselines[name]


@pytest.mark.parametrize("name", names)
def test_disk_full(name: str, target: Target, baselines: dict) -> None:
    op = OPERATIONS[name]
    context, before = prepared(target, op)
    with op.disk_full(target.dsn), pytest.raises(ProviderCallFailed) as failed:
        op.call(target.served[op.resource_type], context)
    assert "the database server is out of disk space" in failed.value.details
    assert state(target.dsn) == before
    op.call(target.served[op.resource_type], context)
    assert state(target.dsn) == baselines[name]


@pytest.mark.parametrize("name", names)
def test_server_killed_mid_transaction(
    name: str, crash_target: tuple[Path, Target], baselines: dict
) -> None:
    data_dir, target = crash_target
    op = OPERATIONS[name]
    context, before = prepared(target, op)
    provider = target.served[op.resource_type]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with op.block(target.dsn):
            pending = pool.submit(op.call, provider, context)
            try:
                faults.waiting_on_lock(target.dsn, op.waits_in)
            finally:
                pg_server.crash(data_dir)
        with pytest.raises(ProviderCallFailed) as failed:
            pending.result(timeout=120)  # a hang guard
    pg_server.start_again(data_dir, "postgres")
    assert "lost the connection to PostgreSQL" in failed.value.details
    assert state(target.dsn) == before
    op.call(provider, context)
    assert state(target.dsn) == baselines[name]
