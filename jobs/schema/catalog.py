"""Read the shape of one object from the PostgreSQL catalog."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from jobs.errors import SchemaConflict
from jobs.queries import query
from jobs.schema.plan import ObjectKind
from jobs.schema.shapes import (
    Column,
    Constraint,
    EnumShape,
    FunctionShape,
    Index,
    Shape,
    TableShape,
    Trigger,
)


def _one(conn: psycopg.Connection, query_name: str, **params: object) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("catalog", query_name), params).fetchone()


def _all(conn: psycopg.Connection, query_name: str, **params: object) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("catalog", query_name), params).fetchall()


@dataclass(frozen=True)
class Found:
    oid: int
    shape: Shape


def find(conn: psycopg.Connection, schema: str, name: str, kind: ObjectKind) -> Found | None:
    """The object ``schema.name`` of ``kind``, or None when nothing holds that name.

    Raises SchemaConflict when the name is taken by something of another kind.
    The caller sets ``search_path`` so definitions print the way they compare.
    """
    if kind is ObjectKind.FUNCTION:
        return _find_function(conn, schema, name)
    relation = _one(conn, "find_relation", schema=schema, name=name)
    type_row = _one(conn, "find_type", schema=schema, name=name)
    if kind is ObjectKind.ENUM:
        if relation is not None:
            raise SchemaConflict(
                f'cannot manage enum "{name}": schema {schema} has a relation of that name'
            )
        if type_row is None:
            return None
        if type_row["typtype"] != "e":
            raise SchemaConflict(
                f'cannot manage enum "{name}": schema {schema} has a non-enum type of that name'
            )
        labels = tuple(r["enumlabel"] for r in _all(conn, "enum_labels", oid=type_row["oid"]))
        return Found(type_row["oid"], EnumShape(labels))

    if relation is None:
        if type_row is not None:
            raise SchemaConflict(
                f'cannot manage table "{name}": schema {schema} has a type of that name'
            )
        return None
    if relation["relkind"] not in ("r", "p"):
        raise SchemaConflict(
            f'cannot manage table "{name}": {schema}.{name} exists but is not a table'
        )
    oid = relation["oid"]
    return Found(
        oid,
        TableShape(
            columns=tuple(
                Column(r["name"], r["type"], r["not_null"], r["default"])
                for r in _all(conn, "table_columns", oid=oid)
            ),
            constraints=tuple(
                Constraint(r["name"], r["kind"], r["definition"])
                for r in _all(conn, "table_constraints", oid=oid)
            ),
            indexes=tuple(
                Index(r["name"], r["is_unique"], r["definition"])
                for r in _all(conn, "table_indexes", oid=oid)
            ),
        ),
    )


def _find_function(conn: psycopg.Connection, schema: str, name: str) -> Found | None:
    rows = _all(conn, "find_functions", schema=schema, name=name)
    if not rows:
        return None
    if len(rows) > 1:
        raise SchemaConflict(
            f'cannot manage function "{name}": schema {schema} has {len(rows)} functions of '
            "that name (overloads); drop the ones sql/ does not define"
        )
    row = rows[0]
    triggers = tuple(
        Trigger(t["name"], t["definition"]) for t in _all(conn, "function_triggers", oid=row["oid"])
    )
    return Found(
        row["oid"],
        FunctionShape(
            arguments=row["arguments"],
            result=row["result"],
            language=row["language"],
            volatility=row["volatility"],
            security_definer=row["security_definer"],
            strict=row["strict"],
            body=row["body"],
            config=tuple(row["config"]),
            pins_search_path=row["pins_search_path"],
            triggers=triggers,
        ),
    )


def type_dependents(conn: psycopg.Connection, oid: int) -> list[tuple[str, str, str]]:
    """(schema, relation, column) of every column typed with enum ``oid``."""
    return [
        (r["schema"], r["relation"], r["column"]) for r in _all(conn, "type_dependents", oid=oid)
    ]
