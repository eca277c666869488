"""Prisma schema text for our enums and tables, from their shapes in the catalog.

Pure: shapes in, text out. The mapping follows what ``prisma db pull`` prints for these
PostgreSQL types, plus what introspection cannot know (``@updatedAt``) and explicit
``@db.Timestamp(3)`` and ``map:`` names, so the models say exactly what the database has.
What Prisma cannot express (CHECK constraints, partial or non-btree indexes) is kept as a
comment in the model, so a change to it still changes the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobs.errors import PrismaMappingError
from jobs.schema.shapes import Column, Constraint, EnumShape, Index, Shape, TableShape

HEADER = """\
// The monitoring schema (enums and tables) as Prisma models, for the portal's Prisma client.
// Generated from sql/ by `python -m jobs prisma-schema --output prisma/infrastructure.prisma`:
// do not edit by hand. The Pulumi program owns these objects; declare them external in
// prisma.config.ts (see prisma/prisma.config.ts and docs/prisma.md).
"""

NOT_EXPRESSIBLE = "// Not expressible in Prisma, enforced by the database:"
UPDATED_AT = "updatedAt"

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_TIMESTAMP = re.compile(r"timestamp\((\d)\) without time zone\Z")
# A plain column list as PostgreSQL prints it: lower-case names bare, others double-quoted.
_COLUMN = r'(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")'
_COLUMN_LIST = re.compile(rf"{_COLUMN}(?:, {_COLUMN})*\Z")
_BTREE_INDEX = re.compile(r"USING btree \((?P<columns>[^()]*)\)\Z")
_KEY_CONSTRAINT = re.compile(r"(?P<kind>PRIMARY KEY|UNIQUE) \((?P<columns>[^()]*)\)\Z")
_LITERAL = re.compile(r"'(?P<text>(?:[^']|'')*)'::(?P<type>.+)\Z")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\Z")

# PostgreSQL type (as format_type prints it) -> Prisma scalar and native type attribute.
_SCALARS: dict[str, tuple[str, str | None]] = {
    "text": ("String", None),
    "double precision": ("Float", None),
    "integer": ("Int", None),
    "boolean": ("Boolean", None),
    "jsonb": ("Json", None),
    "date": ("DateTime", "@db.Date"),
}


@dataclass(frozen=True)
class DatabaseObject:
    """One enum or table as the catalog describes it.

    ``column_order`` is the tables' physical column order (the deploy file's on a fresh
    build), which the model follows; the shape itself keeps columns sorted by name.
    """

    name: str
    shape: Shape
    column_order: tuple[str, ...] = ()


def render(objects: Sequence[DatabaseObject]) -> str:
    """The Prisma schema text for ``objects``: enums first, then models, in the given order."""
    enums = {o.name: o.shape.labels for o in objects if isinstance(o.shape, EnumShape)}
    blocks = [_enum_block(name, labels) for name, labels in enums.items()]
    blocks += [
        _model_block(o.name, o.shape, o.column_order, enums)
        for o in objects
        if isinstance(o.shape, TableShape)
    ]
    return HEADER + "".join(f"\n{block}" for block in blocks)


def _identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise PrismaMappingError(
            f"{what} {name!r} is not a valid Prisma name (letters, digits and _, starting with "
            "a letter); jobs/prisma/render.py does not generate @map names"
        )
    return name


def _prisma_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _enum_block(name: str, labels: Iterable[str]) -> str:
    values = "".join(f"  {_identifier(label, f'enum {name}: value')}\n" for label in labels)
    return f"enum {_identifier(name, 'enum')} {{\n{values}}}\n"


def _column_names(text: str) -> list[str] | None:
    """The names in a plain column list, or None when it holds anything else."""
    if not _COLUMN_LIST.match(text):
        return None
    return [
        part[1:-1].replace('""', '"') if part.startswith('"') else part
        for part in re.findall(_COLUMN, text)
    ]


def _field_type(table: str, column: Column, enums: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """The Prisma type and its native type attribute ('' when the default fits)."""
    enum_name = column.type[1:-1] if column.type.startswith('"') else column.type
    if enum_name in enums:
        return enum_name, ""
    if column.type in _SCALARS:
        scalar, native = _SCALARS[column.type]
        return scalar, native or ""
    timestamp = _TIMESTAMP.match(column.type)
    if timestamp:
        return "DateTime", f"@db.Timestamp({timestamp[1]})"
    raise PrismaMappingError(
        f'table "{table}": column {column.name} has type {column.type}, which '
        "jobs/prisma/render.py does not map to Prisma; extend its type table"
    )


def _default(column: Column, scalar: str, enums: dict[str, tuple[str, ...]]) -> str | None:
    """The ``@default(...)`` for the column's database default; dbgenerated when not a literal."""
    expression = column.default
    if expression is None:
        return None
    literal = _LITERAL.match(expression)
    text = literal["text"].replace("''", "'") if literal else None
    if scalar in ("String", "Json") and text is not None:
        return f"@default({_prisma_string(text)})"
    if scalar in enums and text in enums[scalar]:
        return f"@default({text})"
    if scalar in ("Float", "Int") and _NUMBER.match(text if text is not None else expression):
        return f"@default({text if text is not None else expression})"
    if scalar == "Boolean" and expression in ("true", "false"):
        return f"@default({expression})"
    return f"@default(dbgenerated({_prisma_string(expression)}))"


def _key_columns(constraint: Constraint) -> tuple[str, list[str]] | None:
    match = _KEY_CONSTRAINT.match(constraint.definition)
    columns = _column_names(match["columns"]) if match else None
    if match is None or columns is None:
        return None
    return match["kind"], columns


def _attribute_list(columns: Sequence[str]) -> str:
    return f"[{', '.join(columns)}]"


def _model_block(
    table: str, shape: TableShape, order: Sequence[str], enums: dict[str, tuple[str, ...]]
) -> str:
    _identifier(table, "table")
    primary: list[str] | None = None
    primary_map: str | None = None  # only when the name is not Prisma's default
    block_attributes: list[str] = []
    comments: list[str] = []
    for constraint in shape.constraints:
        if constraint.kind == "f":
            raise PrismaMappingError(
                f'table "{table}": foreign key {constraint.name} needs relation fields, which '
                "jobs/prisma/render.py does not generate; extend it"
            )
        key = _key_columns(constraint) if constraint.kind in ("p", "u") else None
        if key is None:
            comments.append(f"// {constraint.name}: {constraint.definition}")
        elif key[0] == "PRIMARY KEY":
            primary = key[1]
            if constraint.name != f"{table}_pkey":
                primary_map = constraint.name
        else:
            block_attributes.append(
                f'@@unique({_attribute_list(key[1])}, map: "{constraint.name}")'
            )
    if primary is None:
        raise PrismaMappingError(
            f'table "{table}" has no primary key, which a Prisma model needs; add one in sql/'
        )
    block_attributes += [attribute for i in shape.indexes if (attribute := _index(i))]
    comments += [
        f"// {i.name}: {'UNIQUE ' if i.unique else ''}INDEX {i.definition}"
        for i in shape.indexes
        if not _index(i)
    ]

    position = {name: n for n, name in enumerate(order)}
    columns = sorted(shape.columns, key=lambda c: (position.get(c.name, len(position)), c.name))
    rows = []
    for column in columns:
        name = _identifier(column.name, f'table "{table}": column')
        scalar, native = _field_type(table, column, enums)
        attributes = []
        if primary == [column.name]:
            attributes.append(f'@id(map: "{primary_map}")' if primary_map else "@id")
        default = _default(column, scalar, enums)
        if default:
            attributes.append(default)
        if column.name == UPDATED_AT and scalar == "DateTime":
            attributes.append("@updatedAt")
        if native:
            attributes.append(native)
        rows.append((name, scalar + ("" if column.not_null else "?"), " ".join(attributes)))
    if len(primary) > 1:
        mapped = f', map: "{primary_map}"' if primary_map else ""
        block_attributes.insert(0, f"@@id({_attribute_list(primary)}{mapped})")

    name_width = max(len(r[0]) for r in rows)
    type_width = max(len(r[1]) for r in rows)
    lines = [
        f"  {name:<{name_width}} {kind:<{type_width}} {attributes}".rstrip()
        for name, kind, attributes in rows
    ]
    # Comments before block attributes, each group after a blank line: `prisma format` keeps
    # that layout as it is.
    if comments:
        lines += ["", f"  {NOT_EXPRESSIBLE}", *(f"  {c}" for c in comments)]
    if block_attributes:
        lines += ["", *(f"  {a}" for a in block_attributes)]
    body = "\n".join(lines)
    return f"model {table} {{\n{body}\n}}\n"


def _index(index: Index) -> str | None:
    """``@@index``/``@@unique`` for a plain btree index on columns, else None."""
    match = _BTREE_INDEX.match(index.definition)
    columns = _column_names(match["columns"]) if match else None
    if columns is None:
        return None
    kind = "@@unique" if index.unique else "@@index"
    return f'{kind}({_attribute_list(columns)}, map: "{index.name}")'
