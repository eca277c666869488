"""Shapes of schema objects as the catalog describes them, and the changes between two.

Pure: no database access. A shape is what makes two objects "the same": for an enum its
labels in order; for a table its columns (type, nullability, default), its constraints
and its indexes, each with the definition PostgreSQL prints for it; for a function its
signature, body and settings, and the triggers that call it. Comparing the live
object with the one the deploy file builds tells whether to adopt, what to alter in
place, and what would lose data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # pg_constraint.contype: p (primary key), u, c (check), f, x
    definition: str


@dataclass(frozen=True)
class Index:
    name: str
    unique: bool
    definition: str  # "USING btree (...) [WHERE ...]"


@dataclass(frozen=True)
class EnumShape:
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": "enum", "labels": list(self.labels)}


@dataclass(frozen=True)
class TableShape:
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()

    def __post_init__(self) -> None:
        # Order never matters for equality: ADD COLUMN appends, the file may not.
        for name in ("columns", "constraints", "indexes"):
            items = getattr(self, name)
            object.__setattr__(self, name, tuple(sorted(items, key=lambda item: item.name)))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "table",
            "columns": [
                {"name": c.name, "type": c.type, "notNull": c.not_null, "default": c.default}
                for c in self.columns
            ],
            "constraints": [
                {"name": c.name, "kind": c.kind, "definition": c.definition}
                for c in self.constraints
            ],
            "indexes": [
                {"name": i.name, "unique": i.unique, "definition": i.definition}
                for i in self.indexes
            ],
        }


@dataclass(frozen=True)
class Trigger:
    name: str
    definition: str  # CREATE TRIGGER … as pg_get_triggerdef prints it


@dataclass(frozen=True)
class FunctionShape:
    """A function as its definition decides its behaviour, and the triggers that call it.

    ``config`` holds its SET clauses but search_path, whose value names the schema it was
    created in; ``pins_search_path`` says one is set."""

    arguments: str
    result: str
    language: str
    volatility: str
    security_definer: bool
    strict: bool
    body: str
    config: tuple[str, ...] = ()
    pins_search_path: bool = False
    triggers: tuple[Trigger, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "function",
            "arguments": self.arguments,
            "result": self.result,
            "language": self.language,
            "volatility": self.volatility,
            "securityDefiner": self.security_definer,
            "strict": self.strict,
            "body": self.body,
            "config": list(self.config),
            "pinsSearchPath": self.pins_search_path,
            "triggers": [{"name": t.name, "definition": t.definition} for t in self.triggers],
        }


Shape = EnumShape | TableShape | FunctionShape


def shape_from_json(data: Mapping[str, Any]) -> Shape:
    """Inverse of ``to_json``; tolerant of the engine dropping ``None`` values."""
    if data.get("kind") == "enum":
        return EnumShape(tuple(data.get("labels") or ()))
    if data.get("kind") == "function":
        return FunctionShape(
            arguments=str(data.get("arguments") or ""),
            result=str(data.get("result") or ""),
            language=str(data.get("language") or ""),
            volatility=str(data.get("volatility") or ""),
            security_definer=bool(data.get("securityDefiner")),
            strict=bool(data.get("strict")),
            body=str(data.get("body") or ""),
            config=tuple(data.get("config") or ()),
            pins_search_path=bool(data.get("pinsSearchPath")),
            triggers=tuple(Trigger(t["name"], t["definition"]) for t in data.get("triggers") or ()),
        )
    return TableShape(
        columns=tuple(
            Column(c["name"], c["type"], bool(c.get("notNull")), c.get("default"))
            for c in data.get("columns") or ()
        ),
        constraints=tuple(
            Constraint(c["name"], c["kind"], c["definition"]) for c in data.get("constraints") or ()
        ),
        indexes=tuple(
            Index(i["name"], bool(i.get("unique")), i["definition"])
            for i in data.get("indexes") or ()
        ),
    )


class Action(enum.Enum):
    IN_PLACE = "in place"  # an ALTER that keeps every row
    DROPS_DATA = "drops data"  # an ALTER that throws column data away
    REBUILD = "rebuild"  # the object must be dropped and created again


@dataclass(frozen=True)
class Change:
    description: str
    action: Action
    statements: tuple[sql.Composed, ...] = field(default=(), compare=False)


def _labels_ok_in_place(live: tuple[str, ...], desired: tuple[str, ...]) -> bool:
    """True when ``live`` is an ordered subsequence of ``desired`` (only additions)."""
    remaining = iter(desired)
    return all(label in remaining for label in live)


def diff_enum(name: str, live: EnumShape, desired: EnumShape) -> list[Change]:
    if live == desired:
        return []
    if not _labels_ok_in_place(live.labels, desired.labels):
        removed = [label for label in live.labels if label not in desired.labels]
        what = f"removes {', '.join(removed)}" if removed else "reorders its values"
        return [Change(f'enum "{name}" {what}', Action.REBUILD)]
    changes = []
    existing = set(live.labels)
    for position, label in enumerate(desired.labels):
        if label in existing:
            continue
        following = next((x for x in desired.labels[position + 1 :] if x in existing), None)
        statement = sql.SQL("ALTER TYPE {} ADD VALUE {}").format(
            sql.Identifier(name), sql.Literal(label)
        )
        if following is not None:
            statement = sql.SQL("{} BEFORE {}").format(statement, sql.Literal(following))
        changes.append(Change(f'enum "{name}": add value {label}', Action.IN_PLACE, (statement,)))
    return changes


def _column_sql(column: Column) -> sql.Composable:
    parts: list[sql.Composable] = [sql.Identifier(column.name), sql.SQL(column.type)]
    if column.not_null:
        parts.append(sql.SQL("NOT NULL"))
    if column.default is not None:
        parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(column.default)))
    return sql.SQL(" ").join(parts)


def diff_table(name: str, live: TableShape, desired: TableShape) -> list[Change]:
    """The changes that turn ``live`` into ``desired``, drops before adds."""
    table = sql.Identifier(name)
    alter = sql.SQL("ALTER TABLE {} ").format(table)
    drops: list[Change] = []
    columns: list[Change] = []
    adds: list[Change] = []

    live_constraints = {c.name: c for c in live.constraints}
    want_constraints = {c.name: c for c in desired.constraints}
    for cname, constraint in live_constraints.items():
        if want_constraints.get(cname) != constraint:
            drops.append(
                Change(
                    f'table "{name}": drop constraint {cname}',
                    Action.IN_PLACE,
                    (alter + sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(cname)),),
                )
            )
    for cname, constraint in want_constraints.items():
        if live_constraints.get(cname) != constraint:
            adds.append(
                Change(
                    f'table "{name}": add constraint {cname} {constraint.definition}',
                    Action.IN_PLACE,
                    (
                        alter
                        + sql.SQL("ADD CONSTRAINT {} {}").format(
                            sql.Identifier(cname), sql.SQL(constraint.definition)
                        ),
                    ),
                )
            )

    live_indexes = {i.name: i for i in live.indexes}
    want_indexes = {i.name: i for i in desired.indexes}
    for iname, index in live_indexes.items():
        if want_indexes.get(iname) != index:
            drops.append(
                Change(
                    f'table "{name}": drop index {iname}',
                    Action.IN_PLACE,
                    (sql.SQL("DROP INDEX {}").format(sql.Identifier(iname)),),
                )
            )
    for iname, index in want_indexes.items():
        if live_indexes.get(iname) != index:
            create = sql.SQL("CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX")
            adds.append(
                Change(
                    f'table "{name}": add index {iname} {index.definition}',
                    Action.IN_PLACE,
                    (
                        sql.SQL("{} {} ON {} {}").format(
                            create, sql.Identifier(iname), table, sql.SQL(index.definition)
                        ),
                    ),
                )
            )

    live_columns = {c.name: c for c in live.columns}
    want_columns = {c.name: c for c in desired.columns}
    for cname in live_columns.keys() - want_columns.keys():
        columns.append(
            Change(
                f'table "{name}": drop column {cname}',
                Action.DROPS_DATA,
                (alter + sql.SQL("DROP COLUMN {}").format(sql.Identifier(cname)),),
            )
        )
    for cname, want in want_columns.items():
        have = live_columns.get(cname)
        if have is None:
            if want.not_null and want.default is None:
                columns.append(
                    Change(
                        f'table "{name}": add column {cname} {want.type} NOT NULL '
                        "without a default",
                        Action.REBUILD,
                    )
                )
            else:
                columns.append(
                    Change(
                        f'table "{name}": add column {cname} {want.type}',
                        Action.IN_PLACE,
                        (alter + sql.SQL("ADD COLUMN {}").format(_column_sql(want)),),
                    )
                )
            continue
        columns.extend(_diff_column(name, alter, have, want))

    order = {Action.DROPS_DATA: 0, Action.IN_PLACE: 1, Action.REBUILD: 2}
    return drops + sorted(columns, key=lambda c: (order[c.action], c.description)) + adds


def _diff_column(table: str, alter: sql.Composable, have: Column, want: Column) -> list[Change]:
    column = sql.Identifier(want.name)
    prefix = f'table "{table}": column {want.name}'
    if have.type != want.type:
        return [Change(f"{prefix} type {have.type} -> {want.type}", Action.REBUILD)]
    changes = []
    if have.default != want.default:
        if want.default is None:
            statement = sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(column)
        else:
            statement = sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(
                column, sql.SQL(want.default)
            )
        changes.append(
            Change(
                f"{prefix} default {have.default} -> {want.default}",
                Action.IN_PLACE,
                (alter + statement,),
            )
        )
    if have.not_null != want.not_null:
        verb = "SET" if want.not_null else "DROP"
        changes.append(
            Change(
                f"{prefix} {'NOT NULL' if want.not_null else 'nullable'}",
                Action.IN_PLACE,
                (alter + sql.SQL("ALTER COLUMN {} {} NOT NULL").format(column, sql.SQL(verb)),),
            )
        )
    return changes


def diff_function(name: str, live: FunctionShape, desired: FunctionShape) -> list[Change]:
    """A function holds no data: a new body, setting or trigger is its deploy file run again
    (CREATE OR REPLACE keeps its owner and grants); new arguments or a new result type need
    it dropped and created (its grants are then given again by pulumi up)."""
    if live == desired:
        return []
    if (live.arguments, live.result) != (desired.arguments, desired.result):
        return [
            Change(
                f'function "{name}" changes its signature to ({desired.arguments}) '
                f"returns {desired.result}",
                Action.REBUILD,
            )
        ]
    what = [
        label
        for label, changed in (
            ("body", live.body != desired.body),
            ("triggers", live.triggers != desired.triggers),
        )
        if changed
    ] or ["settings"]
    return [Change(f'function "{name}": replace its {" and ".join(what)}', Action.IN_PLACE)]


def diff_shapes(name: str, live: Shape, desired: Shape) -> list[Change]:
    if isinstance(live, EnumShape) and isinstance(desired, EnumShape):
        return diff_enum(name, live, desired)
    if isinstance(live, TableShape) and isinstance(desired, TableShape):
        return diff_table(name, live, desired)
    if isinstance(live, FunctionShape) and isinstance(desired, FunctionShape):
        return diff_function(name, live, desired)
    return [Change(f'"{name}" is a {_kind(live)}, expected a {_kind(desired)}', Action.REBUILD)]


def _kind(shape: Shape) -> str:
    if isinstance(shape, FunctionShape):
        return "function"
    return "enum" if isinstance(shape, EnumShape) else "table"
