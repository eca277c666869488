"""prisma/infrastructure.prisma: generated from sql/, and any drift named object by object."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from jobs.cli import main
from jobs.errors import PrismaMappingError
from jobs.prisma.drift import differences
from jobs.prisma.introspect import read_objects
from jobs.prisma.render import DatabaseObject, render
from jobs.schema import plan
from jobs.schema.shapes import Column, Constraint, EnumShape, Index, TableShape

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "prisma" / "infrastructure.prisma"
LABEL = "prisma/infrastructure.prisma"


def generated_from(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        return render(read_objects(conn, "public"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the committed file against the database the migration code builds ---------------------


def test_committed_file_equals_the_one_generated_from_a_migrated_database(
    migrated_db: str,
) -> None:
    found = differences(COMMITTED.read_text(encoding="utf-8"), generated_from(migrated_db), LABEL)
    assert found == [], "regenerate prisma/infrastructure.prisma:\n" + "\n".join(found)


def test_cli_check_accepts_the_committed_file_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, empty_db: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    assert run(capsys, "prisma-schema", "--check", str(COMMITTED)) == (
        0,
        f"{COMMITTED} matches sql/\n",
        "",
    )
    code, out, _ = run(capsys, "prisma-schema")
    assert (code, out) == (0, COMMITTED.read_text(encoding="utf-8"))
    # Built in a scratch schema and rolled back: the database is still empty.
    with psycopg.connect(empty_db) as conn:
        left = conn.execute(
            """SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_%'
               UNION ALL SELECT typname FROM pg_type
                         WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'
               UNION ALL SELECT relname FROM pg_class
                         WHERE relnamespace = 'public'::regnamespace"""
        ).fetchall()
    assert left == []


@pytest.fixture
def edited_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of sql/ that the schema plan reads instead of the real one."""
    copy = tmp_path / "sql"
    shutil.copytree(ROOT / "sql", copy)
    monkeypatch.setattr(plan, "SQL_DIR", copy)
    return copy


def test_a_column_and_an_enum_value_added_to_sql_without_regenerating_fail_the_check(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    empty_db: str,
    edited_sql: Path,
) -> None:
    metric = edited_sql / "deploy" / "InfrastructureMetric.sql"
    metric.write_text(
        metric.read_text().replace(
            '"source"     TEXT NOT NULL,', '"source" TEXT NOT NULL, "region" TEXT,'
        )
    )
    metric_type = edited_sql / "deploy" / "MetricType.sql"
    metric_type.write_text(metric_type.read_text().replace("'BUILDS'", "'BUILDS', 'GPU_HOURS'"))
    monkeypatch.setenv("DATABASE_URL", empty_db)

    code, out, err = run(capsys, "prisma-schema", "--check", str(COMMITTED))

    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {COMMITTED} does not match sql/: ")
    assert (
        f"model InfrastructureMetric: field region is missing from {COMMITTED} (region String?)"
        in err
    )
    assert f"enum MetricType: value GPU_HOURS is missing from {COMMITTED}" in err
    assert err.rstrip().endswith(
        "regenerate it with `python -m jobs prisma-schema --output prisma/infrastructure.prisma`"
    )


def test_a_column_added_to_the_database_by_hand_is_named(migrated_db: str) -> None:
    with psycopg.connect(migrated_db) as conn:
        conn.execute('ALTER TABLE "UpgradeRecommendation" ADD COLUMN "approvedAt" TIMESTAMP(3)')
        conn.execute("""ALTER TYPE "RecommendationStatus" ADD VALUE 'ARCHIVED'""")
    found = differences(COMMITTED.read_text(encoding="utf-8"), generated_from(migrated_db), LABEL)
    assert found == [
        f"enum RecommendationStatus: value ARCHIVED is missing from {LABEL}",
        f"model UpgradeRecommendation: field approvedAt is missing from {LABEL} "
        "(approvedAt DateTime? @db.Timestamp(3))",
    ]


# --- the other way round: the Prisma side changed without sql/ --------------------------------


def test_prisma_side_edits_are_named() -> None:
    generated = COMMITTED.read_text(encoding="utf-8")
    edited = (
        generated.replace("  EXPIRED\n", "")
        .replace("  unit       String\n", "  unit       String\n  region     String?\n")
        .replace("  limitValue        Float\n", "  limitValue        Int\n")
        .replace('  @@index([timestamp], map: "InfrastructureMetric_timestamp_idx")\n', "")
    )
    assert differences(edited, generated, LABEL) == [
        f"enum RecommendationStatus: value EXPIRED is missing from {LABEL}",
        f"model InfrastructureLimit: field limitValue differs: {LABEL} has 'limitValue Int', "
        "sql/ gives 'limitValue Float'",
        "model InfrastructureMetric: "
        f'@@index([timestamp], map: "InfrastructureMetric_timestamp_idx") is missing from {LABEL}',
        f"model InfrastructureMetric: field region is in {LABEL} but not in sql/",
    ]


def test_missing_extra_and_broken_blocks_are_named() -> None:
    generated = "enum A {\n  X\n}\n\nmodel B {\n  id String @id\n}\n"
    assert differences("enum A {\n  X\n}\n\nmodel C {\n  id String @id\n}\n", generated, "f") == [
        "model B is missing from f",
        "model C is in f but not in sql/",
    ]
    assert differences("enum A {\n  X\n", generated, "f") == [
        "f: enum A is not closed with '}'",
        "model B is missing from f",
    ]


def test_order_and_formatting_differences_are_reported_too() -> None:
    generated = "model B {\n  id   String @id\n  name String\n}\n"
    reordered = "model B {\n  name String\n  id   String @id\n}\n"
    assert differences(reordered, generated, "f") == [
        "f differs from the generated text in order or formatting only"
    ]
    assert differences(generated, generated, "f") == []


# --- the mapping itself ------------------------------------------------------------------------


def column(name: str, type_: str, not_null: bool = True, default: str | None = None) -> Column:
    return Column(name, type_, not_null, default)


PKEY = Constraint("T_pkey", "p", "PRIMARY KEY (id)")


def model(*columns: Column, constraints: tuple = (PKEY,), indexes: tuple = ()) -> str:
    enum = DatabaseObject("Color", EnumShape(("RED", "DARK_BLUE")))
    table = DatabaseObject(
        "T",
        TableShape(
            columns=(column("id", "text"), *columns), constraints=constraints, indexes=indexes
        ),
        column_order=("id", *(c.name for c in columns)),
    )
    text = render([enum, table])
    return text[text.index("model T {") :]


def fields(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()[1:-1] if line.strip()]


def test_types_nullability_and_native_types_map_like_prisma_db_pull() -> None:
    text = model(
        column("name", "text", not_null=False),
        column("ratio", "double precision"),
        column("done", "boolean"),
        column("data", "jsonb", not_null=False),
        column("day", "date"),
        column("at", "timestamp(3) without time zone"),
        column("precise", "timestamp(6) without time zone", not_null=False),
        column("color", '"Color"'),
    )
    assert fields(text) == [
        "id String @id",
        "name String?",
        "ratio Float",
        "done Boolean",
        "data Json?",
        "day DateTime @db.Date",
        "at DateTime @db.Timestamp(3)",
        "precise DateTime? @db.Timestamp(6)",
        "color Color",
    ]


def test_defaults_become_literals_or_dbgenerated() -> None:
    text = model(
        column("label", "text", default="'it''s \"x\"'::text"),
        column("ratio", "double precision", default="0.75"),
        column("offset", "double precision", default="'-1.5'::double precision"),
        column("done", "boolean", default="false"),
        column("data", "jsonb", default="'{}'::jsonb"),
        column("color", '"Color"', default="'DARK_BLUE'::\"Color\""),
        column(
            "createdAt", "timestamp(3) without time zone", default="timezone('UTC'::text, now())"
        ),
        column(
            "updatedAt", "timestamp(3) without time zone", default="timezone('UTC'::text, now())"
        ),
    )
    assert fields(text)[1:] == [
        'label String @default("it\'s \\"x\\"")',
        "ratio Float @default(0.75)",
        "offset Float @default(-1.5)",
        "done Boolean @default(false)",
        'data Json @default("{}")',
        "color Color @default(DARK_BLUE)",
        "createdAt DateTime @default(dbgenerated(\"timezone('UTC'::text, now())\")) "
        "@db.Timestamp(3)",
        "updatedAt DateTime @default(dbgenerated(\"timezone('UTC'::text, now())\")) "
        "@updatedAt @db.Timestamp(3)",
    ]


def test_ids_uniques_and_indexes_keep_their_database_names() -> None:
    text = model(
        column("a", "text"),
        column("b", "text"),
        constraints=(
            Constraint("T_custom_pk", "p", "PRIMARY KEY (id)"),
            Constraint("T_a_key", "u", "UNIQUE (a)"),
        ),
        indexes=(
            Index("T_a_b_idx", False, 'USING btree (a, "b")'),
            Index("T_b_key", True, "USING btree (b)"),
        ),
    )
    assert fields(text) == [
        'id String @id(map: "T_custom_pk")',
        "a String",
        "b String",
        '@@unique([a], map: "T_a_key")',
        '@@index([a, b], map: "T_a_b_idx")',
        '@@unique([b], map: "T_b_key")',
    ]
    composite = model(
        column("a", "text"), constraints=(Constraint("T_pkey", "p", "PRIMARY KEY (id, a)"),)
    )
    assert fields(composite)[-1] == "@@id([id, a])"


def test_what_prisma_cannot_express_stays_as_a_comment() -> None:
    text = model(
        column("a", "text"),
        constraints=(PKEY, Constraint("T_a_check", "c", "CHECK ((a <> ''::text))")),
        indexes=(
            Index("T_a_open_key", True, "USING btree (a) WHERE (a <> 'x'::text)"),
            Index("T_lower_idx", False, "USING btree (lower(a))"),
            Index("T_a_gin_idx", False, "USING gin (a)"),
        ),
    )
    assert fields(text)[2:] == [
        "// Not expressible in Prisma, enforced by the database:",
        "// T_a_check: CHECK ((a <> ''::text))",
        "// T_a_gin_idx: INDEX USING gin (a)",
        "// T_a_open_key: UNIQUE INDEX USING btree (a) WHERE (a <> 'x'::text)",
        "// T_lower_idx: INDEX USING btree (lower(a))",
    ]


@pytest.mark.parametrize(
    ("columns", "constraints", "message"),
    [
        (
            (column("n", "integer[]"),),
            (PKEY,),
            'table "T": column n has type integer[], which jobs/prisma/render.py does not map',
        ),
        (
            (column("my col", "text"),),
            (PKEY,),
            """table "T": column 'my col' is not a valid Prisma name""",
        ),
        ((), (), 'table "T" has no primary key, which a Prisma model needs'),
        (
            (column("other", "text"),),
            (PKEY, Constraint("T_other_fkey", "f", 'FOREIGN KEY (other) REFERENCES "U"(id)')),
            'table "T": foreign key T_other_fkey needs relation fields',
        ),
    ],
)
def test_what_the_generator_cannot_map_is_an_error_naming_it(
    columns: tuple[Column, ...], constraints: tuple[Constraint, ...], message: str
) -> None:
    with pytest.raises(PrismaMappingError) as error:
        model(*columns, constraints=constraints)
    assert message in str(error.value)


# --- the command's input and output ------------------------------------------------------------


def test_output_writes_the_file_and_a_bad_path_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    empty_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    target = tmp_path / "infrastructure.prisma"
    target.write_text("old")
    assert run(capsys, "prisma-schema", "--output", str(target)) == (0, "", f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")

    missing = tmp_path / "no-such-dir" / "x.prisma"
    code, _, err = run(capsys, "prisma-schema", "--output", str(missing))
    assert (code, err) == (
        2,
        f"error: --output {missing}: directory {missing.parent} does not exist\n",
    )
    assert list(tmp_path.iterdir()) == [target]


def test_bad_arguments_fail_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.prisma"
    assert run(capsys, "prisma-schema", "--check", str(missing)) == (
        2,
        "",
        f"error: cannot read {missing}: No such file or directory\n",
    )
    with pytest.raises(SystemExit) as exit_:
        main(["prisma-schema", "--check", "a", "--output", "b"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
