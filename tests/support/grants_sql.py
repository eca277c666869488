"""pulumi-postgresql's Role, Grant and DefaultPrivileges, applied as the SQL that provider runs.

The provider plugin (``pulumi-resource-postgresql``, a bridge of
cyrilgdn/terraform-provider-postgresql) cannot be installed here, so the tests prove the
*declared* resources against a real PostgreSQL through this translator. It takes the inputs
exactly as a mock run of the real program records them and runs what the provider's
documented semantics and source (``resource_postgresql_role.go``, ``_grant.go``,
``_default_privileges.go``) run for a create:

- ``Role``: ``CREATE ROLE name WITH [NO]LOGIN [NO]SUPERUSER [NO]CREATEDB [NO]CREATEROLE
  [NO]INHERIT [NO]REPLICATION [NO]BYPASSRLS CONNECTION LIMIT -1 PASSWORD '…'``, then
  ``ALTER ROLE name SET search_path TO …`` for ``searchPaths``; ``roles`` are granted.
- ``Grant``: in one transaction, revoke then grant, so the role ends with exactly the listed
  privileges: ``REVOKE ALL PRIVILEGES ON DATABASE|SCHEMA … FROM role`` (for named tables:
  ``REVOKE <privileges> ON TABLE schema.t, … FROM role``; with no objects: ``… ON ALL
  TABLES IN SCHEMA …``), then ``GRANT <privileges> ON … TO role`` (nothing for an empty list).
- ``Grant`` with ``objectType: column``: ``REVOKE p (columns) ON TABLE …``, then ``GRANT p
  (columns) ON TABLE … TO role``.
- ``DefaultPrivileges``: ``ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA s REVOKE ALL ON
  TABLES FROM role``, then ``… GRANT <privileges> ON TABLES TO role``.

Every identifier is quoted (the provider uses ``pq.QuoteIdentifier``) and the password is a
literal. Test support only: the product never runs this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

ROLE = "postgresql:index/role:Role"
GRANT = "postgresql:index/grant:Grant"
DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges"
SECRET_SIG = "4dabf18193072939515e22adb298388d"

_OBJECT_KINDS = {"table": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION"}
_DEFAULT_KINDS = {"table": "TABLES", "sequence": "SEQUENCES", "function": "FUNCTIONS"}
_PRIVILEGES = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
        "CREATE",
        "CONNECT",
        "TEMPORARY",
        "EXECUTE",
        "USAGE",
    }
)


@dataclass(frozen=True)
class Declared:
    """One declared resource: its type token and its inputs (secrets unwrapped)."""

    type: str
    name: str
    inputs: Mapping[str, Any]


def unwrap(value: Any) -> Any:
    """The plain value inside Pulumi's secret wrappers, at any depth."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG):
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _privilege_list(inputs: Mapping[str, Any]) -> list[sql.SQL]:
    names = [str(p).upper() for p in inputs.get("privileges") or []]
    unknown = sorted(set(names) - _PRIVILEGES)
    if unknown:
        raise ValueError(f"unknown privileges {unknown}")
    return [sql.SQL(p) for p in names]  # checked against the keyword list


def _privileges(inputs: Mapping[str, Any]) -> sql.Composable:
    return sql.SQL(", ").join(_privilege_list(inputs))


def _flag(inputs: Mapping[str, Any], key: str, keyword: str, default: bool = False) -> sql.SQL:
    on = bool(inputs.get(key, default))
    return sql.SQL(keyword if on else f"NO{keyword}")


def role_statements(inputs: Mapping[str, Any]) -> list[sql.Composable]:
    name = sql.Identifier(inputs["name"])
    options = [
        _flag(inputs, "login", "LOGIN"),
        _flag(inputs, "superuser", "SUPERUSER"),
        _flag(inputs, "createDatabase", "CREATEDB"),
        _flag(inputs, "createRole", "CREATEROLE"),
        _flag(inputs, "inherit", "INHERIT", default=True),
        _flag(inputs, "replication", "REPLICATION"),
        _flag(inputs, "bypassRowLevelSecurity", "BYPASSRLS"),
        sql.SQL("CONNECTION LIMIT {}").format(sql.Literal(int(inputs.get("connectionLimit", -1)))),
    ]
    if inputs.get("password"):
        options.append(sql.SQL("PASSWORD {}").format(sql.Literal(inputs["password"])))
    statements: list[sql.Composable] = [
        sql.SQL("CREATE ROLE {} WITH {}").format(name, sql.SQL(" ").join(options))
    ]
    for member_of in inputs.get("roles") or []:
        statements.append(sql.SQL("GRANT {} TO {}").format(sql.Identifier(member_of), name))
    if inputs.get("searchPaths"):
        statements.append(
            sql.SQL("ALTER ROLE {} SET search_path TO {}").format(
                name, sql.SQL(", ").join(sql.Identifier(s) for s in inputs["searchPaths"])
            )
        )
    return statements


def _grant_target(inputs: Mapping[str, Any], objects: list[str]) -> sql.Composable:
    kind = inputs["objectType"]
    if kind == "database":
        return sql.SQL("DATABASE {}").format(sql.Identifier(inputs["database"]))
    if kind == "schema":
        return sql.SQL("SCHEMA {}").format(sql.Identifier(inputs["schema"]))
    keyword = _OBJECT_KINDS[kind]
    schema = inputs["schema"]
    if not objects:
        return sql.SQL("ALL {}S IN SCHEMA {}").format(sql.SQL(keyword), sql.Identifier(schema))
    return sql.SQL("{} {}").format(
        sql.SQL(keyword), sql.SQL(", ").join(sql.Identifier(schema, o) for o in objects)
    )


def column_grant_statements(inputs: Mapping[str, Any]) -> list[sql.Composable]:
    """``object_type = "column"``: one table, its ``columns``; revoke, then grant, the listed
    privileges on exactly those columns (``_grant.go``: ``GRANT p (c, …) ON TABLE t``)."""
    (table,) = inputs["objects"]
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in inputs["columns"])
    target = sql.Identifier(inputs["schema"], table)
    role = sql.Identifier(inputs["role"])
    privileges = [sql.SQL("{} ({})").format(p, columns) for p in _privilege_list(inputs)]
    listed = sql.SQL(", ").join(privileges)
    return [
        sql.SQL("REVOKE {} ON TABLE {} FROM {}").format(listed, target, role),
        sql.SQL("GRANT {} ON TABLE {} TO {}").format(listed, target, role),
    ]


def grant_statements(inputs: Mapping[str, Any]) -> list[sql.Composable]:
    if inputs["objectType"] == "column":
        return column_grant_statements(inputs)
    role = sql.Identifier(inputs["role"])
    objects = list(inputs.get("objects") or [])
    target = _grant_target(inputs, objects)
    named_tables = inputs["objectType"] in _OBJECT_KINDS and objects
    revoked = _privileges(inputs) if named_tables and inputs.get("privileges") else None
    statements: list[sql.Composable] = [
        sql.SQL("REVOKE {} ON {} FROM {}").format(
            revoked or sql.SQL("ALL PRIVILEGES"), target, role
        )
    ]
    if inputs.get("privileges"):
        grant = sql.SQL("GRANT {} ON {} TO {}").format(_privileges(inputs), target, role)
        if inputs.get("withGrantOption"):
            grant += sql.SQL(" WITH GRANT OPTION")
        statements.append(grant)
    return statements


def default_privileges_statements(inputs: Mapping[str, Any]) -> list[sql.Composable]:
    prefix = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {}").format(
        sql.Identifier(inputs["owner"]), sql.Identifier(inputs["schema"])
    )
    kind = sql.SQL(_DEFAULT_KINDS[inputs["objectType"]])
    role = sql.Identifier(inputs["role"])
    statements: list[sql.Composable] = [
        sql.SQL("{} REVOKE ALL ON {} FROM {}").format(prefix, kind, role)
    ]
    if inputs.get("privileges"):
        statements.append(
            sql.SQL("{} GRANT {} ON {} TO {}").format(prefix, _privileges(inputs), kind, role)
        )
    return statements


TRANSLATORS = {
    ROLE: role_statements,
    GRANT: grant_statements,
    DEFAULT_PRIVILEGES: default_privileges_statements,
}


def statements(declared: Declared) -> list[sql.Composable]:
    return TRANSLATORS[declared.type](unwrap(dict(declared.inputs)))


def apply(owner_dsn: str, resources: Iterable[Declared]) -> list[str]:
    """Create ``resources`` in declaration order, each in its own transaction, connected as
    the owner (as the provider is); returns the statements run, passwords masked."""
    ran: list[str] = []
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        for declared in resources:
            if declared.type not in TRANSLATORS:
                continue
            with conn.transaction():
                for statement in statements(declared):
                    conn.execute(statement)
                    text = statement.as_string(conn)
                    if declared.type == ROLE and " PASSWORD " in text:
                        text = text.split(" PASSWORD ")[0] + " PASSWORD '***'"
                    ran.append(text)
    return ran
