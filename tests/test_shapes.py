"""Pure shape comparison: what is in place, what loses data, what needs a rebuild."""

from __future__ import annotations

from jobs.schema.shapes import (
    Action,
    Column,
    Constraint,
    EnumShape,
    Index,
    TableShape,
    diff_enum,
    diff_shapes,
    diff_table,
    shape_from_json,
)


def rendered(changes: list) -> list[str]:
    return [s.as_string(None) for c in changes for s in c.statements]


def test_new_enum_values_are_inserted_where_the_file_puts_them() -> None:
    changes = diff_enum("E", EnumShape(("A", "C")), EnumShape(("A", "B", "B2", "C", "D")))
    assert [c.action for c in changes] == [Action.IN_PLACE] * 3
    assert rendered(changes) == [
        """ALTER TYPE "E" ADD VALUE 'B' BEFORE 'C'""",
        """ALTER TYPE "E" ADD VALUE 'B2' BEFORE 'C'""",
        """ALTER TYPE "E" ADD VALUE 'D'""",
    ]


def test_removed_or_reordered_enum_values_need_a_rebuild() -> None:
    (removed,) = diff_enum("E", EnumShape(("A", "B")), EnumShape(("A",)))
    assert (removed.action, removed.description) == (Action.REBUILD, 'enum "E" removes B')
    (reordered,) = diff_enum("E", EnumShape(("A", "B")), EnumShape(("B", "A")))
    assert reordered.description == 'enum "E" reorders its values'


def test_equal_shapes_ignore_column_order() -> None:
    a = TableShape((Column("x", "text", True, None), Column("y", "int", False, None)))
    b = TableShape((Column("y", "int", False, None), Column("x", "text", True, None)))
    assert a == b and diff_table("T", a, b) == []


BASE = TableShape(
    columns=(Column("id", "text", True, None), Column("v", "double precision", True, None)),
    constraints=(Constraint("T_pkey", "p", "PRIMARY KEY (id)"),),
    indexes=(Index("T_v_idx", False, "USING btree (v)"),),
)


def test_additive_table_changes_are_in_place_and_ordered_drops_first() -> None:
    desired = TableShape(
        columns=(
            *BASE.columns,
            Column("note", "text", False, None),
            Column("n", "integer", True, "1"),
        ),
        constraints=(
            *BASE.constraints,
            Constraint("T_v_check", "c", "CHECK ((v >= (0)::double precision))"),
        ),
        indexes=(Index("T_v_idx", True, "USING btree (v)"),),
    )
    changes = diff_table("T", BASE, desired)
    assert {c.action for c in changes} == {Action.IN_PLACE}
    assert rendered(changes) == [
        'DROP INDEX "T_v_idx"',
        'ALTER TABLE "T" ADD COLUMN "n" integer NOT NULL DEFAULT 1',
        'ALTER TABLE "T" ADD COLUMN "note" text',
        'ALTER TABLE "T" ADD CONSTRAINT "T_v_check" CHECK ((v >= (0)::double precision))',
        'CREATE UNIQUE INDEX "T_v_idx" ON "T" USING btree (v)',
    ]


def test_type_change_and_not_null_without_default_need_a_rebuild() -> None:
    desired = TableShape(
        columns=(
            Column("id", "text", True, None),
            Column("v", "numeric", True, None),
            Column("must", "text", True, None),
        ),
        constraints=BASE.constraints,
        indexes=BASE.indexes,
    )
    changes = diff_table("T", BASE, desired)
    assert [(c.action, c.description) for c in changes] == [
        (Action.REBUILD, 'table "T": add column must text NOT NULL without a default'),
        (Action.REBUILD, 'table "T": column v type double precision -> numeric'),
    ]


def test_dropped_column_drops_data_in_place() -> None:
    desired = TableShape(columns=BASE.columns[:1], constraints=BASE.constraints, indexes=())
    changes = diff_table("T", BASE, desired)
    assert [(c.action, c.description) for c in changes] == [
        (Action.IN_PLACE, 'table "T": drop index T_v_idx'),
        (Action.DROPS_DATA, 'table "T": drop column v'),
    ]


def test_defaults_and_nullability_alter_in_place() -> None:
    desired = TableShape(
        columns=(
            Column("id", "text", True, "(gen_random_uuid())::text"),
            Column("v", "double precision", False, None),
        ),
        constraints=BASE.constraints,
        indexes=BASE.indexes,
    )
    assert rendered(diff_table("T", BASE, desired)) == [
        'ALTER TABLE "T" ALTER COLUMN "id" SET DEFAULT (gen_random_uuid())::text',
        'ALTER TABLE "T" ALTER COLUMN "v" DROP NOT NULL',
    ]


def test_a_table_where_an_enum_is_expected_needs_a_rebuild() -> None:
    (change,) = diff_shapes("X", BASE, EnumShape(("A",)))
    assert (change.action, change.description) == (
        Action.REBUILD,
        '"X" is a table, expected a enum',
    )


def test_shapes_survive_the_engine_dropping_none() -> None:
    shape = TableShape(columns=(Column("x", "text", False, None),))
    as_state = shape.to_json()
    del as_state["columns"][0]["default"]  # the engine drops None values
    assert shape_from_json(as_state) == shape
    assert shape_from_json(EnumShape(("A",)).to_json()) == EnumShape(("A",))
