"""SQL safety: values only as parameters, identifiers only through psycopg.sql (an audit of the
source), and hostile names from every input that takes one: refused, or quoted harmlessly."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from jobs.cli import main
from jobs.schema.plan import SCHEMA_PLAN

ROOT = Path(__file__).resolve().parent.parent
EXECUTORS = {"execute", "executemany", "copy"}
# sql.SQL() of something other than a literal, and why each is safe: the text comes from
# PostgreSQL's own catalog functions (format_type, pg_get_expr, pg_get_constraintdef,
# pg_get_indexdef) describing objects that sql/deploy files built, never from user input.
RENDERED_BY_POSTGRES = {
    ("jobs/schema/shapes.py", "column.type"),
    ("jobs/schema/shapes.py", "column.default"),
    ("jobs/schema/shapes.py", "constraint.definition"),
    ("jobs/schema/shapes.py", "index.definition"),
    ("jobs/schema/shapes.py", "want.default"),
    # One of two keywords, chosen by a boolean two lines above.
    ("jobs/schema/shapes.py", "verb"),
}
# Statements sent without composition, and why: migrate._run_file sends the reviewed
# sql/deploy and sql/revert files (resource inputs in Pulumi), which hold no parameters.
WHOLE_FILES = {("jobs/schema/migrate.py", "text.encode('utf-8')")}


def python_files(root: Path) -> Iterator[Path]:
    for folder in ("jobs", "infra"):
        yield from sorted((root / folder).rglob("*.py"))
    yield root / "__main__.py"


def _is_text(node: ast.AST) -> bool:
    """A string literal, or a choice between string literals."""
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) and _is_text(node.orelse)
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _formats_text(node: ast.AST) -> str | None:
    """How ``node`` builds SQL text out of values, if it does."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.JoinedStr):
            return "an f-string"
        if (
            isinstance(inner, ast.BinOp)
            and isinstance(inner.op, ast.Mod | ast.Add)
            and (_is_text(inner.left) or _is_text(inner.right))
        ):
            return "% or + on a string"
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "format"
            and _is_text(inner.func.value)
        ):
            return "str.format"
    return None


def _is_sql_sql(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "SQL"
        and isinstance(func.value, ast.Name)
        and func.value.id == "sql"
    )


def audit(root: Path = ROOT) -> list[str]:
    problems = []
    for path in python_files(root):
        relative = str(path.relative_to(root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            where = f"{relative}:{node.lineno}"
            if isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTORS:
                how = _formats_text(first)
                if how:
                    problems.append(f"{where}: {node.func.attr}() of SQL built with {how}")
                elif isinstance(first, ast.Call) and not (
                    _is_sql_sql(first)
                    or (isinstance(first.func, ast.Name) and first.func.id == "query")
                    or (isinstance(first.func, ast.Attribute) and first.func.attr == "format")
                    or (relative, ast.unparse(first)) in WHOLE_FILES
                ):
                    problems.append(f"{where}: {node.func.attr}() of {ast.unparse(first)}")
            rendered = (relative, ast.unparse(first)) in RENDERED_BY_POSTGRES
            if _is_sql_sql(node) and not _is_text(first) and not rendered:
                problems.append(f"{where}: sql.SQL() of {ast.unparse(first)}")
    return problems


def test_values_are_parameters_and_identifiers_go_through_psycopg_sql() -> None:
    assert audit() == []


def test_the_audit_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "jobs" / "bad.py"
    bad.parent.mkdir()
    bad.write_text(
        "def f(conn, name, table):\n"
        '    conn.execute(f"SELECT * FROM {table}")\n'
        "    conn.execute(\"DELETE FROM x WHERE n = '%s'\" % name)\n"
        '    conn.execute("SELECT {}".format(name))\n'
        "    conn.execute(sql.SQL(table))\n",
        encoding="utf-8",
    )
    (tmp_path / "infra").mkdir()
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    assert audit(tmp_path) == [
        "jobs/bad.py:2: execute() of SQL built with an f-string",
        "jobs/bad.py:3: execute() of SQL built with % or + on a string",
        "jobs/bad.py:4: execute() of SQL built with str.format",
        "jobs/bad.py:5: sql.SQL() of table",
    ]


# -- hostile names through the inputs that take identifiers ----------------------------

HOSTILE_SCHEMA = 'public"; DROP TABLE sentinel; --'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch, empty_db: str) -> str:
    """A database with a table an injection would drop."""
    with psycopg.connect(empty_db) as conn:
        conn.execute("CREATE TABLE sentinel (x int)")
        conn.execute("INSERT INTO sentinel VALUES (1)")
    monkeypatch.setenv("DATABASE_URL", empty_db)
    return empty_db


def sentinel_intact(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT x FROM sentinel").fetchall() == [(1,)]


def test_a_hostile_schema_that_does_not_exist_is_refused_with_one_line(
    guarded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "schema", "up", "--schema", HOSTILE_SCHEMA)
    assert code == 1 and out == ""
    assert err == (
        f"error: schema {HOSTILE_SCHEMA} does not exist in the database: create it "
        '(CREATE SCHEMA "public""; DROP TABLE sentinel; --") or change the stack config '
        "'schema'\n"
    )
    assert sentinel_intact(guarded)


def test_a_hostile_schema_name_is_only_ever_a_name(
    guarded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schema really called that: everything lands inside it, nothing else is touched."""
    with psycopg.connect(guarded) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(HOSTILE_SCHEMA)))
    for action in ("up", "show", "plan"):
        code, _, err = run(capsys, "schema", action, "--schema", HOSTILE_SCHEMA)
        assert (code, err) == (0, ""), action
    code, out, err = run(capsys, "limits", "diff", "--schema", HOSTILE_SCHEMA)
    assert (code, err) == (0, ""), err
    assert f'{HOSTILE_SCHEMA}."InfrastructureLimit"' in out
    with psycopg.connect(guarded) as conn:
        found = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                [HOSTILE_SCHEMA],
            )
        }
    assert found == {o.name for o in SCHEMA_PLAN if o.kind == "table"}
    assert run(capsys, "schema", "down", "--schema", HOSTILE_SCHEMA)[0] == 0
    assert sentinel_intact(guarded)


def test_hostile_values_are_only_ever_values(
    guarded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "schema", "up")[0] == 0
    hostile = "x'); DROP TABLE sentinel; --"
    code, _, err = run(capsys, "recommendations", "show", hostile)
    assert (code, err) == (1, f"error: no recommendation with id {hostile!r}\n")
    code, _, err = run(capsys, "recommendations", "approve", hostile, "--by", hostile)
    assert code == 1 and "no recommendation with id" in err
    assert sentinel_intact(guarded)
