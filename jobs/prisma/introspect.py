"""The shapes the Prisma models are generated from, read from PostgreSQL.

``objects_from_sql`` builds every object of ``SCHEMA_PLAN`` with the migration code the
Pulumi provider runs (``jobs.schema.migrate.apply``), in a throw-away schema inside a
transaction that is rolled back, and reads the catalog back: the models always describe
what sql/ builds, and the database is left as it was.
"""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from jobs.db import wrap_errors
from jobs.errors import SchemaError
from jobs.prisma.render import DatabaseObject
from jobs.queries import query
from jobs.schema import catalog, migrate
from jobs.schema.plan import SCHEMA_PLAN, ObjectKind

SCRATCH_PREFIX = "_prisma_"


def read_objects(conn: psycopg.Connection, schema: str) -> tuple[DatabaseObject, ...]:
    """Every object of the plan as it exists in ``schema``, in plan order."""
    objects = []
    with wrap_errors(f"read schema {schema}"), conn.transaction():
        # Enum types then print unqualified, as the models name them.
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        for obj in SCHEMA_PLAN:
            if obj.kind is ObjectKind.FUNCTION:
                continue  # Prisma models tables and enums only
            found = catalog.find(conn, schema, obj.name, obj.kind)
            if found is None:
                raise SchemaError(
                    f'{obj.kind} {schema}."{obj.name}" does not exist: migrate the schema first'
                )
            order: tuple[str, ...] = ()
            if obj.kind is ObjectKind.TABLE:
                rows = conn.execute(query("prisma", "column_order"), {"oid": found.oid})
                order = tuple(row[0] for row in rows)
            objects.append(DatabaseObject(obj.name, found.shape, order))
    return tuple(objects)


def objects_from_sql(conn: psycopg.Connection) -> tuple[DatabaseObject, ...]:
    """Migrate sql/ into a scratch schema, read it, and roll everything back."""
    scratch = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
    objects: tuple[DatabaseObject, ...] = ()
    with conn.transaction():
        with wrap_errors(f"create the scratch schema {scratch}"):
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        for obj in SCHEMA_PLAN:
            migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, scratch))
        objects = read_objects(conn, scratch)
        raise psycopg.Rollback()
    return objects
