"""A database set up as production is: an owner role that migrated it, and the jobs' role
made by the program's own pulumi-postgresql declarations (applied by ``grants_sql``)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pulumi
from psycopg import conninfo, sql
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN
from tests.support import grants_sql
from tests.support.grants_sql import Declared
from tests.support.program import run_program


class Declaring(pulumi.runtime.Mocks):
    """Records every declared resource, in order, with its inputs."""

    def __init__(self) -> None:
        self.declared: list[Declared] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        self.declared.append(Declared(args.typ, args.name, dict(args.inputs)))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def declare(config: dict[str, str], secret_keys: tuple[str, ...]) -> list[Declared]:
    """Run the real program under mocks (without ``DATABASE_URL``); its declarations."""
    mocks = Declaring()
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        run_program(mocks, config, secret_keys=secret_keys)
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    return mocks.declared


@dataclass(frozen=True)
class RoleDatabase:
    name: str
    owner: str
    owner_dsn: str
    jobs: str
    jobs_password: str
    jobs_dsn: str
    declared: list[Declared]
    ran: list[str]  # the statements grants_sql ran, passwords masked


@contextlib.contextmanager
def provisioned(admin_dsn: str, schema: str = "public") -> Iterator[RoleDatabase]:
    suffix = uuid.uuid4().hex[:10]
    name, owner, jobs = f"t_roles_{suffix}", f"owner_{suffix}", f"jobs_{suffix}"
    owner_password, jobs_password = f"owner-pw-{suffix}", f"jobs-password-{suffix}"
    owner_dsn = conninfo.make_conninfo(admin_dsn, dbname=name, user=owner, password=owner_password)
    jobs_dsn = conninfo.make_conninfo(admin_dsn, dbname=name, user=jobs, password=jobs_password)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        # As on Neon: the owner may create roles but is no superuser.
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(owner), sql.Literal(owner_password)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
    try:
        with psycopg.connect(owner_dsn) as conn:
            if schema != "public":
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            for obj in SCHEMA_PLAN:
                migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, schema))
        declared = declare(
            {
                "databaseUrl": owner_dsn,
                "jobsRole": jobs,
                "jobsPassword": jobs_password,
                "schema": schema,
            },
            secret_keys=("databaseUrl", "jobsPassword"),
        )
        ran = grants_sql.apply(owner_dsn, declared)
        yield RoleDatabase(name, owner, owner_dsn, jobs, jobs_password, jobs_dsn, declared, ran)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            for role in (jobs, owner):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
