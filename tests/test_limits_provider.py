"""The limit-row providers, served as the engine serves them, against real PostgreSQL.

Each step is what the engine does: ``up`` checks and creates (or diffs and updates) every
row, then the LimitSet; ``refresh`` reads; removing a row from the file deletes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pulumi
import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from infra.limits import (
    PROVIDER_VERSION,
    LimitRowProvider,
    LimitSetProvider,
    resource_name,
    row_inputs,
)
from infra.provider import SqlObjectProvider
from jobs.limits import store
from jobs.limits.loader import load
from jobs.limits.model import Key, LimitRow, key_label
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.program import run_program
from tests.support.served_provider import ProviderCallFailed, ServedProvider

ROWS = load(DEFAULT_LIMITS_FILE).rows()
ROW_TYPE = "pulumi-python:dynamic/postgres:LimitRow"
SET_TYPE = "pulumi-python:dynamic/postgres:LimitSet"
SQL_OBJECT = "pulumi-python:dynamic/postgres:SqlObject"
ACTOR = "octocat"
# What the old TypeScript initializer left behind: same services, its own plan names.
OLD_INITIALIZER_ROWS = [
    ("VERCEL_BLOB", "STORAGE_MB", "hobby", 1024.0),
    ("VERCEL_FUNCTIONS", "INVOCATIONS", "pro", 1_000_000.0),
]

Serve = Callable[..., ServedProvider]
State = dict[Key, tuple[str, dict[str, Any]]]


@pytest.fixture
def serve() -> Iterator[Callable[..., ServedProvider]]:
    """Factory: a provider process for one provider class, configured with the database."""
    started: list[ServedProvider] = []

    def start(provider: Any, dsn: str | None, resource_type: str = ROW_TYPE) -> ServedProvider:
        served = ServedProvider(provider, env={"GITHUB_ACTOR": ACTOR}, resource_type=resource_type)
        started.append(served)
        served.configure({"databaseUrl": dsn} if dsn else {})
        return served

    yield start
    for served in started:
        served.close()


def inputs(row: LimitRow) -> dict[str, Any]:
    return row_inputs(row, "public")


def set_inputs(rows: tuple[LimitRow, ...] | list[LimitRow]) -> dict[str, Any]:
    return {
        "schema": "public",
        "keys": sorted(key_label(r.key) for r in rows),
        "providerVersion": PROVIDER_VERSION,
    }


def up(served: ServedProvider, rows: tuple[LimitRow, ...] = ROWS) -> State:
    """Check + Create every row, as `pulumi up` on an empty stack does."""
    state = {}
    for row in rows:
        checked, failures = served.check({}, inputs(row))
        assert failures == []
        state[row.key] = served.create(checked)
    return state


def table(dsn: str) -> dict[Key, store.StoredRow]:
    with psycopg.connect(dsn) as conn:
        return {stored.row.key: stored for stored in store.read_all(conn, "public")}


def execute(dsn: str, statement: str, *params: Any) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(statement, params)


def insert_unmanaged(dsn: str) -> None:
    for service, metric, plan, value in OLD_INITIALIZER_ROWS:
        execute(
            dsn,
            """INSERT INTO "InfrastructureLimit" (service, "metricType", plan, "limitValue", unit)
               VALUES (%s, %s, %s, %s, 'x')""",
            service,
            metric,
            plan,
            value,
        )


def edited(row: LimitRow, **changes: Any) -> LimitRow:
    return dataclasses.replace(row, **changes)


def test_apply_writes_one_row_per_limit_with_who_and_when(serve: Serve, migrated_db: str) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served)
    found = table(migrated_db)
    assert {key: stored.row for key, stored in found.items()} == {row.key: row for row in ROWS}
    for key, (id_, outs) in state.items():
        assert found[key].id == id_
        assert found[key].updated_by == f"pulumi:{ACTOR}"
        assert outs["updatedBy"] == f"pulumi:{ACTOR}" and outs["adopted"] is False
        # olds in diff/update are these outputs, so every input is echoed back.
        assert {k: outs[k] for k in inputs(found[key].row)} == inputs(found[key].row)


def test_applying_the_same_file_again_changes_nothing(serve: Serve, migrated_db: str) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served)
    before = table(migrated_db)
    for row in ROWS:
        id_, outs = state[row.key]
        assert served.diff(id_, outs, inputs(row)).changes is False, row.key
    assert table(migrated_db) == before  # not even updatedAt moved


def test_editing_a_number_updates_that_row_in_place_and_no_other(
    serve: Serve, migrated_db: str
) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served)
    before = table(migrated_db)
    row = ROWS[0]
    raised = edited(row, warning=0.8, limit_value=row.limit_value * 2)
    id_, outs = state[row.key]

    diff = served.diff(id_, outs, inputs(raised))
    assert (diff.changes, diff.replaces) == (True, ())
    new_outs = served.update(id_, outs, inputs(raised))

    after = table(migrated_db)
    assert after[row.key].id == id_  # same row
    assert after[row.key].row == raised
    assert after[row.key].updated_at > before[row.key].updated_at
    assert after[row.key].created_at == before[row.key].created_at
    assert new_outs["updatedAt"] == after[row.key].updated_at.isoformat()
    assert new_outs["warningThreshold"] == 0.8
    others = {key: stored for key, stored in after.items() if key != row.key}
    assert others == {key: stored for key, stored in before.items() if key != row.key}


def test_a_changed_key_replaces_the_row(serve: Serve, migrated_db: str) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served, ROWS[:1])
    id_, outs = state[ROWS[0].key]
    moved = edited(ROWS[0], plan="vercel-enterprise")
    diff = served.diff(id_, outs, inputs(moved))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ("plan",), True)


def test_a_row_removed_from_the_file_is_deleted(serve: Serve, migrated_db: str) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served)
    gone = ROWS[3]
    id_, outs = state[gone.key]
    served.delete(id_, outs)
    found = table(migrated_db)
    assert gone.key not in found
    assert set(found) == {row.key for row in ROWS} - {gone.key}
    served.delete(id_, outs)  # already gone: deleting again is not an error


def test_refresh_sees_a_hand_edit_and_up_puts_the_file_back(serve: Serve, migrated_db: str) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served)
    row = ROWS[2]
    id_, outs = state[row.key]
    execute(
        migrated_db,
        """UPDATE "InfrastructureLimit" SET "limitValue" = 5, "updatedBy" = 'someone'
           WHERE id = %s""",
        id_,
    )

    read_id, live = served.read(id_, outs)
    assert read_id == id_
    assert (live["limitValue"], live["updatedBy"]) == (5.0, "someone")
    # The next preview compares the file with what refresh saw: drift is a change.
    assert served.diff(id_, live, inputs(row)).changes is True
    served.update(id_, live, inputs(row))
    assert table(migrated_db)[row.key].row == row
    assert table(migrated_db)[row.key].id == id_


def test_refresh_drops_a_row_deleted_by_hand_and_update_says_what_to_do(
    serve: Serve, migrated_db: str
) -> None:
    served = serve(LimitRowProvider(), migrated_db)
    state = up(served, ROWS[:1])
    id_, outs = state[ROWS[0].key]
    execute(migrated_db, 'DELETE FROM "InfrastructureLimit" WHERE id = %s', id_)
    assert served.read(id_, outs)[0] == ""  # the engine drops it; the next up creates it
    with pytest.raises(ProviderCallFailed) as failed:
        served.update(id_, outs, inputs(edited(ROWS[0], warning=0.5)))
    assert failed.value.details.strip().splitlines()[-1] == (
        f"infra.provider.ProviderError: limit {key_label(ROWS[0].key)} (row {id_}) was deleted "
        "outside Pulumi: run `pulumi refresh`, then `pulumi up` creates it again"
    )


def test_create_adopts_a_row_that_already_has_the_key(serve: Serve, migrated_db: str) -> None:
    row = ROWS[0]
    execute(
        migrated_db,
        """INSERT INTO "InfrastructureLimit" (id, service, "metricType", plan, "limitValue", unit)
           VALUES ('made-by-hand', %s, %s, %s, 1, 'x')""",
        *row.key,
    )
    served = serve(LimitRowProvider(), migrated_db)
    id_, outs = up(served, (row,))[row.key]
    assert (id_, outs["adopted"]) == ("made-by-hand", True)
    assert table(migrated_db)[row.key].row == row


def test_the_set_deletes_rows_nobody_wrote_into_the_file(serve: Serve, migrated_db: str) -> None:
    rows = serve(LimitRowProvider(), migrated_db)
    limit_set = serve(LimitSetProvider(), migrated_db, SET_TYPE)
    up(rows)
    set_id, set_outs = limit_set.create(limit_set.check({}, set_inputs(ROWS))[0])
    assert set_outs["pruned"] == []

    insert_unmanaged(migrated_db)  # after the last up, e.g. by hand
    strays = sorted(key_label((s, m, p)) for s, m, p, _ in OLD_INITIALIZER_ROWS)
    # `pulumi up` without refresh still finds them: the set's diff asks the database.
    assert limit_set.diff(set_id, set_outs, set_inputs(ROWS)).changes is True
    assert limit_set.read(set_id, set_outs)[1]["unmanaged"] == strays
    set_outs = limit_set.update(set_id, set_outs, set_inputs(ROWS))
    assert set_outs["pruned"] == strays
    assert set(table(migrated_db)) == {row.key for row in ROWS}
    assert limit_set.diff(set_id, set_outs, set_inputs(ROWS)).changes is False


def test_a_row_without_database_fails_with_one_clear_line(serve: Serve) -> None:
    served = serve(LimitRowProvider(), None)
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(inputs(ROWS[0]))
    assert failed.value.details.strip().splitlines()[-1] == (
        "infra.provider.ProviderError: no database configured: set DATABASE_URL or "
        "`pulumi config set --secret databaseUrl postgres://...`"
    )


def test_check_rejects_malformed_inputs(serve: Serve) -> None:
    served = serve(LimitRowProvider(), None)
    bad = inputs(ROWS[0]) | {"service": "VERCEL_NOPE", "warningThreshold": "high"}
    _, failures = served.check({}, bad)
    assert [prop for prop, _ in failures] == ["service", "warningThreshold"]


class Engine(pulumi.runtime.Mocks):
    """Hands each dynamic resource to its served provider, as the engine does on `up`."""

    def __init__(self, providers: dict[str, ServedProvider]) -> None:
        self.providers = providers
        self.created: list[tuple[str, str]] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        served = self.providers.get(args.typ)
        if served is None:
            return f"{args.name}-id", dict(args.inputs)
        news = {k: v for k, v in args.inputs.items() if k != "__provider"}
        checked, failures = served.check({}, news)
        assert failures == [], (args.name, failures)
        id_, outs = served.create(checked)
        self.created.append((args.typ, args.name))
        return id_, outs

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def test_pulumi_up_makes_the_table_match_the_file(
    serve: Serve, migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real program on a database the old initializer filled: afterwards the table holds
    exactly the file's rows; the LimitSet ran after every row."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    insert_unmanaged(migrated_db)
    engine = Engine(
        {
            SQL_OBJECT: serve(SqlObjectProvider(), migrated_db, SQL_OBJECT),
            ROW_TYPE: serve(LimitRowProvider(), migrated_db),
            SET_TYPE: serve(LimitSetProvider(), migrated_db, SET_TYPE),
        }
    )
    run_program(engine, {"schema": "public"})
    found = table(migrated_db)
    assert {key: stored.row for key, stored in found.items()} == {row.key: row for row in ROWS}
    # After every row (tables the program creates alongside may finish later).
    last_row = max(i for i, (typ, _) in enumerate(engine.created) if typ == ROW_TYPE)
    assert engine.created.index((SET_TYPE, "limits-set")) > last_row
    row_names = [name for typ, name in engine.created if typ == ROW_TYPE]
    assert sorted(row_names) == sorted(resource_name(row.key) for row in ROWS)


def test_a_bad_file_applies_nothing_to_the_database(
    serve: Serve, migrated_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    insert_unmanaged(migrated_db)
    bad = tmp_path / "limits.yaml"
    bad.write_text(
        DEFAULT_LIMITS_FILE.read_text().replace("warning: 0.75", "warning: 0.95"), "utf-8"
    )
    engine = Engine({ROW_TYPE: serve(LimitRowProvider(), migrated_db)})
    with pytest.raises(pulumi.RunError) as failed:
        run_program(engine, {"limitsFile": str(bad)})
    assert "thresholds.warning: warning 0.95 must be below critical 0.9" in str(failed.value)
    assert engine.created == []
    assert set(table(migrated_db)) == {(s, m, p) for s, m, p, _ in OLD_INITIALIZER_ROWS}
