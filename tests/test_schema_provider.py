"""The SQL-object dynamic provider, served as the engine serves it, against real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from infra.provider import PROVIDER_VERSION, SqlObjectProvider
from jobs.schema.plan import SCHEMA_PLAN, SchemaObject
from tests.conftest import dsn_for
from tests.support.served_provider import ProviderCallFailed, ServedProvider

PLAN = {obj.name: obj for obj in SCHEMA_PLAN}

Serve = Callable[..., ServedProvider]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Factory: a provider process configured like the engine would (config keys unprefixed)."""
    started: list[ServedProvider] = []

    def start(
        config: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> ServedProvider:
        served = ServedProvider(SqlObjectProvider(), env=env)
        started.append(served)
        served.configure(config or {})
        return served

    yield start
    for served in started:
        served.close()


def props(
    obj: SchemaObject, deploy_sql: str | None = None, schema: str = "public"
) -> dict[str, Any]:
    return {
        "objectName": obj.name,
        "kind": obj.kind.value,
        "schema": schema,
        "deploySql": deploy_sql if deploy_sql is not None else obj.deploy_sql(),
        "revertSql": obj.revert_sql(),
        "providerVersion": PROVIDER_VERSION,
    }


def up(
    served: ServedProvider, objects: tuple[SchemaObject, ...] = SCHEMA_PLAN
) -> dict[str, tuple[str, dict]]:
    """Check + Create every object in order, as `pulumi up` on an empty stack does."""
    state = {}
    for obj in objects:
        inputs, failures = served.check({}, props(obj))
        assert failures == []
        state[obj.name] = served.create(inputs)
    return state


def scalar(dsn: str, query: str, *params: Any) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def execute(dsn: str, statement: str, *params: Any) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(statement, params)


def objects_in(dsn: str, schema: str) -> set[str]:
    """Names of every table, enum and function in ``schema``."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p')
            UNION
            SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = %(s)s AND t.typtype = 'e'
            UNION
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = %(s)s
            """,
            {"s": schema},
        ).fetchall()
    return {r[0] for r in rows}


def insert_metric(dsn: str, value: float = 1.5) -> None:
    execute(
        dsn,
        """INSERT INTO "InfrastructureMetric"
               (service, "metricType", value, unit, "timestamp", "windowEnd", source)
           VALUES ('VERCEL_KV', 'STORAGE_MB', %s, 'MB', '2026-11-01', '2026-11-02', 'test')""",
        value,
    )


def last_line(error: ProviderCallFailed) -> str:
    return [line for line in error.details.splitlines() if line.strip()][-1]


def test_create_makes_every_object_with_config_from_stack(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    assert objects_in(empty_db, "public") == set(PLAN)
    id_, outs = state["InfrastructureMetric"]
    assert id_ == "public.InfrastructureMetric"
    assert outs["adopted"] is False
    assert {c["name"] for c in outs["shape"]["columns"]} >= {"service", "metricType", "value"}
    # olds in diff/update are these outputs, so every input is echoed back.
    assert outs["deploySql"] == PLAN["InfrastructureMetric"].deploy_sql()


def test_create_reads_database_url_from_environment(serve: Serve, empty_db: str) -> None:
    served = serve(env={"DATABASE_URL": empty_db})
    up(served, SCHEMA_PLAN[:1])
    assert objects_in(empty_db, "public") == {"InfrastructureService"}


def test_create_adopts_objects_of_the_same_shape(serve: Serve, migrated_db: str) -> None:
    insert_metric(migrated_db)
    served = serve({"databaseUrl": migrated_db})
    state = up(served)
    assert all(outs["adopted"] is True for _, outs in state.values())
    assert scalar(migrated_db, 'SELECT count(*) FROM "InfrastructureMetric"') == 1


def test_create_refuses_an_object_of_another_shape_naming_the_difference(
    serve: Serve, empty_db: str
) -> None:
    served = serve({"databaseUrl": empty_db})
    up(served, SCHEMA_PLAN[:4])
    execute(
        empty_db,
        """CREATE TABLE "InfrastructureMetric" (
               id TEXT PRIMARY KEY, service "InfrastructureService", value NUMERIC NOT NULL)""",
    )
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["InfrastructureMetric"]))
    message = last_line(failed.value)
    assert message.startswith(
        'infra.provider.ProviderError: table public."InfrastructureMetric" '
        "already exists with a different shape"
    )
    assert "column value type numeric -> double precision" in message
    assert "add column metricType" in message
    assert "drop constraint InfrastructureMetric_pkey" not in message  # same name, same definition


def test_create_refuses_a_name_taken_by_another_kind(serve: Serve, empty_db: str) -> None:
    execute(empty_db, 'CREATE TABLE "MetricType" (x int)')
    served = serve({"databaseUrl": empty_db})
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["MetricType"]))
    assert last_line(failed.value).endswith(
        'cannot manage enum "MetricType": schema public has a relation of that name'
    )


def test_failure_mid_create_leaves_nothing_behind(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    up(served, SCHEMA_PLAN[:4])
    broken = (
        PLAN["InfrastructureMetric"].deploy_sql() + '\nCREATE INDEX "x" ON "NoSuchTable" ("y");\n'
    )
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["InfrastructureMetric"], broken))
    assert 'relation "NoSuchTable" does not exist' in last_line(failed.value)
    assert "InfrastructureMetric" not in objects_in(empty_db, "public")


def test_unchanged_inputs_and_database_diff_to_nothing(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    for obj in SCHEMA_PLAN:
        id_, outs = state[obj.name]
        assert served.diff(id_, outs, props(obj)).changes is False


def test_additive_changes_update_in_place_keeping_rows(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    insert_metric(empty_db, 7.0)

    metric_type = PLAN["MetricType"]
    new_enum = metric_type.deploy_sql().replace("'COST_USD',", "'COST_USD',\n    'QUEUE_MESSAGES',")
    id_, outs = state["MetricType"]
    diff = served.diff(id_, outs, props(metric_type, new_enum))
    assert (diff.changes, diff.replaces) == (True, ())
    outs = served.update(id_, outs, props(metric_type, new_enum))
    labels = outs["shape"]["labels"]
    assert labels[labels.index("COST_USD") + 1] == "QUEUE_MESSAGES"

    table = PLAN["InfrastructureMetric"]
    new_table = (
        table.deploy_sql().replace(
            "\"metadata\"   JSONB NOT NULL DEFAULT '{}',",
            '"metadata"   JSONB NOT NULL DEFAULT \'{}\',\n    "region" TEXT,\n'
            '    "attempts" INTEGER NOT NULL DEFAULT 1,',
        )
        + '\nCREATE INDEX "InfrastructureMetric_source_idx" ON "InfrastructureMetric" ("source");\n'
    )
    id_, outs = state["InfrastructureMetric"]
    diff = served.diff(id_, outs, props(table, new_table))
    assert (diff.changes, diff.replaces) == (True, ())
    outs = served.update(id_, outs, props(table, new_table))

    assert {"region", "attempts"} <= {c["name"] for c in outs["shape"]["columns"]}
    assert "InfrastructureMetric_source_idx" in {i["name"] for i in outs["shape"]["indexes"]}
    assert scalar(empty_db, 'SELECT value FROM "InfrastructureMetric"') == 7.0
    assert scalar(empty_db, 'SELECT attempts FROM "InfrastructureMetric"') == 1
    assert scalar(empty_db, "SELECT 'QUEUE_MESSAGES'::\"MetricType\"::text") == "QUEUE_MESSAGES"
    # Applied: the next diff against the new definition is empty.
    assert served.diff(id_, outs, props(table, new_table)).changes is False


TYPE_CHANGE = ('"value"      DOUBLE PRECISION NOT NULL,', '"value"      NUMERIC(20, 6) NOT NULL,')


def test_change_that_loses_rows_is_refused_at_preview(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    insert_metric(empty_db)
    table = PLAN["InfrastructureMetric"]
    changed = props(table, table.deploy_sql().replace(*TYPE_CHANGE))
    id_, outs = state[table.name]
    with pytest.raises(ProviderCallFailed) as failed:
        served.diff(id_, outs, changed)
    message = last_line(failed.value)
    assert 'public."InfrastructureMetric" holds 1 rows and this change loses data' in message
    assert "column value type double precision -> numeric(20,6)" in message
    assert "allowDataLoss" in message
    # Even if asked to update anyway, nothing is touched.
    with pytest.raises(ProviderCallFailed):
        served.update(id_, outs, changed)
    assert scalar(empty_db, 'SELECT count(*) FROM "InfrastructureMetric"') == 1


def test_change_that_loses_rows_replaces_with_allow_data_loss(serve: Serve, empty_db: str) -> None:
    state = up(serve({"databaseUrl": empty_db}))
    insert_metric(empty_db)
    served = serve({"databaseUrl": empty_db, "allowDataLoss": "true"})
    table = PLAN["InfrastructureMetric"]
    changed = props(table, table.deploy_sql().replace(*TYPE_CHANGE))
    id_, outs = state[table.name]
    diff = served.diff(id_, outs, changed)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ("deploySql",), True)
    # The engine's replacement: delete the old (dropped, data loss allowed), create the new.
    served.delete(id_, outs)
    _, outs = served.create(changed)
    value = next(c for c in outs["shape"]["columns"] if c["name"] == "value")
    assert value["type"] == "numeric(20,6)"
    assert scalar(empty_db, 'SELECT count(*) FROM "InfrastructureMetric"') == 0
    assert not [s for s in schemas(empty_db) if s.startswith("infra_archive_")]


def test_empty_table_is_rebuilt_without_asking(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    table = PLAN["InfrastructureMetric"]
    changed = props(table, table.deploy_sql().replace(*TYPE_CHANGE))
    id_, outs = state[table.name]
    assert served.diff(id_, outs, changed).replaces == ("deploySql",)


def schemas(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}


def test_delete_drops_empty_objects_in_rollback_order(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    for obj in reversed(SCHEMA_PLAN):
        served.delete(*state[obj.name])
    assert objects_in(empty_db, "public") == set()
    assert not [s for s in schemas(empty_db) if s.startswith("infra_archive_")]


def test_delete_archives_tables_with_rows_and_the_types_they_use(
    serve: Serve, empty_db: str
) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    insert_metric(empty_db, 3.0)
    for obj in reversed(SCHEMA_PLAN):
        served.delete(*state[obj.name])
    assert objects_in(empty_db, "public") == set()
    (archive,) = [s for s in schemas(empty_db) if s.startswith("infra_archive_")]
    # The table with rows and the enums its columns use moved; the rest was dropped.
    assert objects_in(empty_db, archive) == {
        "InfrastructureMetric",
        "InfrastructureService",
        "MetricType",
    }
    assert scalar(empty_db, f'SELECT value FROM {archive}."InfrastructureMetric"') == 3.0
    assert (
        scalar(empty_db, f'SELECT service::text FROM {archive}."InfrastructureMetric"')
        == "VERCEL_KV"
    )
    log = served.close()
    assert f"holds 1 rows: moved to schema {archive}" in log


def test_delete_of_a_missing_object_succeeds(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    served.delete("public.MetricType", served.with_provider(props(PLAN["MetricType"])))
    assert objects_in(empty_db, "public") == set()


def test_refresh_sees_hand_edits_and_hand_drops(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    id_, outs = state["InfrastructureLimit"]
    execute(empty_db, 'ALTER TABLE "InfrastructureLimit" ADD COLUMN "handMade" TEXT')
    read_id, read_outs = served.read(id_, outs)
    assert read_id == id_
    assert "handMade" in {c["name"] for c in read_outs["shape"]["columns"]}
    # The next preview proposes to put it back to the definition, in place.
    diff = served.diff(id_, read_outs, props(PLAN["InfrastructureLimit"]))
    assert (diff.changes, diff.replaces) == (True, ())

    execute(empty_db, 'DROP TABLE "UpgradeRecommendation"')
    gone_id, _ = served.read(*state["UpgradeRecommendation"])
    assert gone_id == ""


def test_check_rejects_missing_inputs(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    bad = props(PLAN["MetricType"])
    bad["deploySql"] = ""
    bad["kind"] = "view"
    _, failures = served.check({}, bad)
    assert ("deploySql", "deploySql must be a non-empty string") in failures
    assert ("kind", "kind must be one of enum, table, function") in failures


def test_unreachable_database_is_one_clear_error(serve: Serve) -> None:
    served = serve({"databaseUrl": "postgresql://monitor@127.0.0.1:9/monitoring"})
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["MetricType"]))
    message = last_line(failed.value)
    assert message.startswith(
        "infra.provider.ProviderError: cannot connect to PostgreSQL at "
        "monitor@127.0.0.1:9/monitoring:"
    )
    assert "refused" in message.lower()


def test_wrong_credentials_are_one_clear_error_without_the_password(
    serve: Serve, empty_db: str, pg_admin_dsn: str, embedded_server: bool
) -> None:
    if not embedded_server:
        pytest.skip("needs the embedded server, whose authentication the test reconfigures")
    with_password_role(pg_admin_dsn)
    bad = dsn_for(
        empty_db,
        psycopg.conninfo.conninfo_to_dict(empty_db)["dbname"],
        user="pw_user",
        password="wrong-s3cret",
    )
    served = serve({"databaseUrl": bad})
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["MetricType"]))
    assert 'password authentication failed for user "pw_user"' in last_line(failed.value)
    assert "wrong-s3cret" not in failed.value.details


def with_password_role(admin_dsn: str) -> None:
    """Make the embedded server ask ``pw_user`` for a password (everyone else stays trusted)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE pw_user LOGIN PASSWORD 'right'; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        hba = conn.execute("SHOW hba_file").fetchone()[0]
        with open(hba, encoding="utf-8") as f:
            rules = f.read()
        rule = "local all pw_user scram-sha-256\nhost all pw_user all scram-sha-256\n"
        if rule not in rules:
            with open(hba, "w", encoding="utf-8") as f:
                f.write(rule + rules)
            conn.execute("SELECT pg_reload_conf()")


def test_no_database_configured_is_one_clear_error(serve: Serve) -> None:
    served = serve({})
    with pytest.raises(ProviderCallFailed) as failed:
        served.create(props(PLAN["MetricType"]))
    assert last_line(failed.value) == (
        "infra.provider.ProviderError: no database configured: set DATABASE_URL or "
        "`pulumi config set --secret databaseUrl postgres://...`"
    )


def test_a_bad_allow_data_loss_value_is_refused(serve: Serve, empty_db: str) -> None:
    with pytest.raises(ProviderCallFailed) as failed:
        serve({"databaseUrl": empty_db, "allowDataLoss": "yes please"}).create(
            props(PLAN["MetricType"])
        )
    assert (
        "stack config allowDataLoss must be true or false, not 'yes please'" in failed.value.details
    )


def function_acl(dsn: str, name: str) -> list[str]:
    return scalar(dsn, "SELECT proacl::text[] FROM pg_proc WHERE proname = %s", name) or []


def test_a_new_function_body_is_applied_in_place_keeping_its_grants(
    serve: Serve, empty_db: str
) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    execute(empty_db, "CREATE ROLE fn_grantee")
    try:
        execute(empty_db, "GRANT EXECUTE ON FUNCTION merge_metrics TO fn_grantee")
        merge = PLAN["merge_metrics"]
        new_body = merge.deploy_sql().replace("RETURN NEXT;", "RETURN NEXT;  -- counted")
        id_, outs = state["merge_metrics"]
        diff = served.diff(id_, outs, props(merge, new_body))
        assert (diff.changes, diff.replaces) == (True, ())
        outs = served.update(id_, outs, props(merge, new_body))
        assert "-- counted" in outs["shape"]["body"]
        assert any(a.startswith("fn_grantee=X/") for a in function_acl(empty_db, "merge_metrics"))
        assert served.diff(id_, outs, props(merge, new_body)).changes is False
    finally:
        execute(empty_db, "DROP OWNED BY fn_grantee")
        execute(empty_db, "DROP ROLE fn_grantee")


def test_a_new_function_signature_replaces_it(serve: Serve, empty_db: str) -> None:
    """New arguments: CREATE OR REPLACE would add an overload, so the function is dropped
    and created (a replace, which replaces its grant with it)."""
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    merge = PLAN["merge_metrics"]
    wider = (
        merge.deploy_sql()
        .replace(
            "    p_metadata     jsonb\n)",
            "    p_metadata     jsonb,\n    p_note text DEFAULT NULL\n)",
        )
        .replace("jsonb\n) FROM PUBLIC", "jsonb, text\n) FROM PUBLIC")
    )
    assert wider.count("p_note") == 1 and wider.count("jsonb, text") == 1
    id_, outs = state["merge_metrics"]
    diff = served.diff(id_, outs, props(merge, wider))
    assert diff.replaces == ("deploySql",) and diff.delete_before_replace
    served.delete(id_, outs)
    _, outs = served.create(props(merge, wider))
    assert outs["shape"]["arguments"].endswith("p_note text DEFAULT NULL::text")
    assert scalar(empty_db, "SELECT count(*) FROM pg_proc WHERE proname = 'merge_metrics'") == 1


def test_a_trigger_dropped_by_hand_is_seen_and_put_back(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    guard = PLAN["guard_review_history"]
    id_, outs = state["guard_review_history"]
    assert [t["name"] for t in outs["shape"]["triggers"]] == ["guard_review_history"]
    execute(empty_db, 'DROP TRIGGER guard_review_history ON "UpgradeRecommendation"')
    refreshed = served.read(id_, outs)
    assert refreshed[1]["shape"]["triggers"] == []
    diff = served.diff(id_, refreshed[1], props(guard))
    assert (diff.changes, diff.replaces) == (True, ())
    outs = served.update(id_, refreshed[1], props(guard))
    assert [t["name"] for t in outs["shape"]["triggers"]] == ["guard_review_history"]


def test_an_overload_made_by_hand_is_a_conflict_naming_it(serve: Serve, empty_db: str) -> None:
    served = serve({"databaseUrl": empty_db})
    state = up(served)
    execute(empty_db, "CREATE FUNCTION merge_metrics(x int) RETURNS int LANGUAGE sql AS 'SELECT 1'")
    id_, outs = state["merge_metrics"]
    with pytest.raises(ProviderCallFailed) as failed:
        served.diff(id_, outs, props(PLAN["merge_metrics"]))
    assert 'cannot manage function "merge_metrics": schema public has 2 functions' in (
        last_line(failed.value)
    )
