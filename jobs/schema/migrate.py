"""Create, adopt, alter, archive and drop the schema objects, each in one transaction.

The Pulumi dynamic provider and ``python -m jobs schema`` both call these functions,
so the SQL files under ``sql/`` are executed the same way by both.

Every operation
- runs in one transaction (a failure leaves the database as it was),
- takes a transaction-level advisory lock so two migrations never interleave,
- sets ``search_path`` to the target schema, so the files need no schema names.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from jobs.db import wrap_errors
from jobs.errors import DestructiveChangeRefused, SchemaConflict, SchemaError
from jobs.schema import catalog
from jobs.schema.plan import ObjectKind, SchemaObject
from jobs.schema.shapes import Action, Change, Shape, diff_shapes

ARCHIVE_PREFIX = "infra_archive_"
LOCK_KEY = "infra-monitoring:schema"
LOCK_TIMEOUT = "15s"


@dataclass(frozen=True)
class ObjectSpec:
    """One object as a resource declares it: what to run to create and to drop it."""

    name: str
    kind: ObjectKind
    schema: str
    deploy_sql: str
    revert_sql: str

    @classmethod
    def from_plan(cls, obj: SchemaObject, schema: str) -> ObjectSpec:
        return cls(obj.name, obj.kind, schema, obj.deploy_sql(), obj.revert_sql())

    @property
    def label(self) -> str:
        return f'{self.kind} {self.schema}."{self.name}"'


def archive_schema_name(now: datetime | None = None) -> str:
    """The schema that receives tables with rows on rollback, named with the time (UTC)."""
    return f"{ARCHIVE_PREFIX}{(now or datetime.now(UTC)):%Y%m%d_%H%M%S}"


def _search_path(conn: psycopg.Connection, *schemas: str) -> None:
    # pg_temp last: a function that pins this path (SET search_path FROM CURRENT) then never
    # resolves a name to a temporary object of its caller.
    conn.execute(
        sql.SQL("SET LOCAL search_path TO {}, pg_temp").format(
            sql.SQL(", ").join(sql.Identifier(s) for s in schemas)
        )
    )


@contextlib.contextmanager
def _migration(conn: psycopg.Connection, spec: ObjectSpec, action: str) -> Iterator[None]:
    """One transaction with the migration lock and the target schema on the search_path."""
    with wrap_errors(f"{action} {spec.label}"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LOCK_KEY])
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        exists = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [spec.schema]
        ).fetchone()
        if not (exists and exists[0]):
            raise SchemaError(
                f"schema {spec.schema} does not exist in the database: create it "
                f"(CREATE SCHEMA {sql.Identifier(spec.schema).as_string(conn)}) or change "
                "the stack config 'schema'"
            )
        _search_path(conn, spec.schema)
        yield


def _run_file(conn: psycopg.Connection, text: str, what: str) -> None:
    # The files are ours, reviewed SQL without parameters: sent as they are.
    with wrap_errors(what):
        conn.execute(text.encode("utf-8"))


def desired_shape(conn: psycopg.Connection, spec: ObjectSpec) -> Shape:
    """The shape the deploy file builds, found by running it in a throw-away schema."""
    scratch = f"_shape_{secrets.token_hex(6)}"
    shape: Shape | None = None
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        _search_path(conn, scratch, spec.schema)
        _run_file(conn, spec.deploy_sql, f"sql/deploy/{spec.name}.sql")
        found = catalog.find(conn, scratch, spec.name, spec.kind)
        if found is None:
            raise SchemaError(f"sql/deploy/{spec.name}.sql does not create {spec.kind} {spec.name}")
        shape = found.shape
        raise psycopg.Rollback()
    assert shape is not None
    return shape


def row_count(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class MigrationPlan:
    """What ``apply`` would do to one object; ``blocker`` says why it must not."""

    exists: bool
    changes: tuple[Change, ...]
    rows: int = 0
    blocker: str | None = None

    @property
    def rebuild(self) -> bool:
        return any(c.action is Action.REBUILD for c in self.changes)

    @property
    def loses_data(self) -> bool:
        return self.rows > 0 and any(c.action is not Action.IN_PLACE for c in self.changes)

    def describe(self) -> str:
        if not self.exists:
            return "create"
        return "; ".join(c.description for c in self.changes) or "no change"


def _plan(conn: psycopg.Connection, spec: ObjectSpec, allow_data_loss: bool) -> MigrationPlan:
    found = catalog.find(conn, spec.schema, spec.name, spec.kind)
    if found is None:
        return MigrationPlan(exists=False, changes=())
    changes = tuple(diff_shapes(spec.name, found.shape, desired_shape(conn, spec)))
    risky = [c for c in changes if c.action is not Action.IN_PLACE]
    if not risky or spec.kind is ObjectKind.FUNCTION:  # a function holds no rows
        return MigrationPlan(exists=True, changes=changes)
    what = "; ".join(c.description for c in risky)
    if spec.kind is ObjectKind.ENUM:
        users = catalog.type_dependents(conn, found.oid)
        if users:
            used_by = ", ".join(f'{s}."{r}".{c}' for s, r, c in users)
            return MigrationPlan(
                exists=True,
                changes=changes,
                blocker=(
                    f"{what}: PostgreSQL cannot remove or reorder enum values in place and "
                    f"{spec.name} is used by {used_by}; move those columns off the old values "
                    "and rebuild the type by hand (docs/schema.md)"
                ),
            )
        return MigrationPlan(exists=True, changes=changes)
    rows = row_count(conn, spec.schema, spec.name)
    blocker = None
    if rows and not allow_data_loss:
        blocker = (
            f'{spec.schema}."{spec.name}" holds {rows} rows and this change loses data ({what}); '
            "refused: set the stack config allowDataLoss to true to allow it"
        )
    return MigrationPlan(exists=True, changes=changes, rows=rows, blocker=blocker)


def plan(
    conn: psycopg.Connection, spec: ObjectSpec, allow_data_loss: bool = False
) -> MigrationPlan:
    """What ``apply`` would change, computed in a transaction that is rolled back."""
    result: MigrationPlan | None = None
    with _migration(conn, spec, "plan"):
        result = _plan(conn, spec, allow_data_loss)
        raise psycopg.Rollback()
    assert result is not None
    return result


@dataclass(frozen=True)
class Applied:
    shape: Shape
    adopted: bool = False
    plan: MigrationPlan | None = None


def create(conn: psycopg.Connection, spec: ObjectSpec) -> Applied:
    """Create the object, or adopt an existing one of exactly the same shape."""
    with _migration(conn, spec, "create"):
        found = catalog.find(conn, spec.schema, spec.name, spec.kind)
        if found is not None:
            changes = diff_shapes(spec.name, found.shape, desired_shape(conn, spec))
            if changes:
                raise SchemaConflict(
                    f"{spec.label} already exists with a different shape, so it cannot be "
                    f"adopted; to match sql/deploy/{spec.name}.sql it would need: "
                    + "; ".join(c.description for c in changes)
                )
            return Applied(found.shape, adopted=True)
        _run_file(conn, spec.deploy_sql, f"sql/deploy/{spec.name}.sql")
        return Applied(_find_or_fail(conn, spec))


def apply(conn: psycopg.Connection, spec: ObjectSpec, allow_data_loss: bool = False) -> Applied:
    """Bring the object to its definition: create it, alter it in place, or rebuild it.

    A rebuild (drop and create) only happens when it loses nothing or ``allow_data_loss``.
    """
    with _migration(conn, spec, "migrate"):
        planned = _plan(conn, spec, allow_data_loss)
        if planned.blocker:
            raise DestructiveChangeRefused(planned.blocker)
        if not planned.exists:
            _run_file(conn, spec.deploy_sql, f"sql/deploy/{spec.name}.sql")
        elif planned.rebuild:
            _run_file(conn, spec.revert_sql, f"sql/revert/{spec.name}.sql")
            _run_file(conn, spec.deploy_sql, f"sql/deploy/{spec.name}.sql")
        elif spec.kind is ObjectKind.FUNCTION:
            if planned.changes:  # CREATE OR REPLACE: owner and grants stay
                _run_file(conn, spec.deploy_sql, f"sql/deploy/{spec.name}.sql")
        else:
            for change in planned.changes:
                for statement in change.statements:
                    with wrap_errors(change.description):
                        conn.execute(statement)
        shape = _find_or_fail(conn, spec)
        left = diff_shapes(spec.name, shape, desired_shape(conn, spec))
        if left:
            raise SchemaError(
                f"{spec.label} still differs from its definition after migrating: "
                + "; ".join(c.description for c in left)
            )
        return Applied(shape, plan=planned)


def _find_or_fail(conn: psycopg.Connection, spec: ObjectSpec) -> Shape:
    found = catalog.find(conn, spec.schema, spec.name, spec.kind)
    if found is None:
        raise SchemaError(f"sql/deploy/{spec.name}.sql ran but {spec.label} does not exist")
    return found.shape


def read(conn: psycopg.Connection, spec: ObjectSpec) -> Shape | None:
    """The live shape, or None when the object is gone."""
    shape: Shape | None = None
    with _migration(conn, spec, "read"):
        found = catalog.find(conn, spec.schema, spec.name, spec.kind)
        shape = found.shape if found else None
    return shape


def delete(
    conn: psycopg.Connection,
    spec: ObjectSpec,
    *,
    allow_data_loss: bool = False,
    archive_schema: str | None = None,
) -> str:
    """Remove the object; a table with rows moves to the archive schema unless data loss is allowed.

    An enum still used by archived tables moves into their archive schema with them.
    Returns what happened, for the log.
    """
    archive = archive_schema or archive_schema_name()
    with _migration(conn, spec, "delete"):
        found = catalog.find(conn, spec.schema, spec.name, spec.kind)
        if found is None:
            return f"{spec.label} was already gone"
        if spec.kind is ObjectKind.TABLE:
            rows = row_count(conn, spec.schema, spec.name)
            if rows and not allow_data_loss:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(archive))
                )
                conn.execute(
                    sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                        sql.Identifier(spec.name), sql.Identifier(archive)
                    )
                )
                return f"{spec.label} holds {rows} rows: moved to schema {archive}"
        elif spec.kind is ObjectKind.ENUM:
            users = catalog.type_dependents(conn, found.oid)
            if users:
                return _archive_enum(conn, spec, users, archive)
        _run_file(conn, spec.revert_sql, f"sql/revert/{spec.name}.sql")
        return f"{spec.label} dropped"


def _archive_enum(
    conn: psycopg.Connection, spec: ObjectSpec, users: list[tuple[str, str, str]], archive: str
) -> str:
    schemas = {schema for schema, _, _ in users}
    live = sorted(f'{s}."{r}".{c}' for s, r, c in users if not s.startswith(ARCHIVE_PREFIX))
    if live:
        raise SchemaError(f"cannot drop {spec.label}: it is still used by {', '.join(live)}")
    target = archive if archive in schemas else max(schemas)
    conn.execute(
        sql.SQL("ALTER TYPE {} SET SCHEMA {}").format(
            sql.Identifier(spec.name), sql.Identifier(target)
        )
    )
    return f"{spec.label} is used by archived tables: moved to schema {target}"
