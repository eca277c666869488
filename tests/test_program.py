"""The Pulumi program (``__main__.py``) under mocks, alone and driving the served provider."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import psycopg
import pulumi
import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from infra.provider import SqlObjectProvider
from infra.roles import FUNCTION_PRIVILEGES, TABLE_PRIVILEGES, UPDATE_COLUMNS
from jobs.limits.loader import load as load_limits
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema.plan import SCHEMA_PLAN
from tests.support.program import run_program
from tests.support.secrets_scan import leaks
from tests.support.served_provider import ServedProvider

SQL_OBJECT = "pulumi-python:dynamic/postgres:SqlObject"
COMPONENT = "infra-monitoring:postgres:MonitoringSchema"
SECRET_PASSWORD = "pr0gram-s3cret-pw"
SECRET_DSN = f"postgresql://owner:{SECRET_PASSWORD}@db.internal:5432/monitoring"


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def _plain_provider(value: Any) -> str:
    """``__provider`` arrives as a secret wrapper under mocks; the engine would unwrap it."""
    return value["value"] if isinstance(value, dict) else value


def test_every_object_is_declared_once_under_the_component(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monitor, _ = run_program(EchoMocks())
    (component,) = monitor.registered(COMPONENT)
    objects = monitor.registered(SQL_OBJECT)
    assert [r.name for r in objects] == [o.name for o in SCHEMA_PLAN]
    assert {r.parent for r in objects} == {monitor.urns[component.name]}


def test_objects_depend_on_each_other_in_the_seed_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monitor, _ = run_program(EchoMocks())
    objects = monitor.registered(SQL_OBJECT)
    assert list(objects[0].dependencies) == []
    for before, after in itertools.pairwise(objects):
        assert list(after.dependencies) == [monitor.urns[before.name]], after.name
    # Destroy walks dependencies backwards: the functions (and the trigger), the tables added
    # since (assessments, the collection job's), then exactly the seed's rollback order.
    assert [r.name for r in reversed(objects)] == [
        "guard_review_history",
        "merge_metrics",
        "PlanPurchase",
        "NotificationLog",
        "UsageAssessment",
        "CollectionRun",
        "CollectionWatermark",
        "UpgradeRecommendation",
        "InfrastructureLimit",
        "InfrastructureMetric",
        "RecommendationStatus",
        "RecommendationPriority",
        "MetricType",
        "InfrastructureService",
    ]


def test_no_credential_reaches_any_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", SECRET_DSN)
    inputs: list[dict] = []

    class Recording(EchoMocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
            inputs.append(dict(args.inputs))
            return super().new_resource(args)

    run_program(Recording(), {"databaseUrl": SECRET_DSN}, secret_keys=("databaseUrl",))
    # The schema and its component, then every limit row, their component and the prune,
    # then the roles: component, provider, role, the jobs' and PUBLIC's database grants, the
    # schema grant, one grant per table, per table's updatable columns and per function,
    # default privileges.
    limit_rows = len(load_limits(DEFAULT_LIMITS_FILE).rows())
    roles = 7 + len(TABLE_PRIVILEGES) + len(UPDATE_COLUMNS) + len(FUNCTION_PRIVILEGES)
    assert len(inputs) == len(SCHEMA_PLAN) + 1 + limit_rows + 2 + roles
    for props in inputs:
        provider = props.pop("__provider", None)
        # Only pulumi-postgresql's provider holds the password, as a secret.
        assert leaks(props, [SECRET_PASSWORD]) == []
        if provider is not None:
            pickled = base64.b64decode(_plain_provider(provider))
            assert SECRET_PASSWORD.encode() not in pickled
            assert b"db.internal" not in pickled


def test_a_bad_schema_name_stops_the_program_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(pulumi.RunError) as failed:
        run_program(EchoMocks(), {"schema": "public; DROP TABLE x"})
    assert str(failed.value) == (
        "stack config schema 'public; DROP TABLE x' is not a plain PostgreSQL identifier "
        "(letters, digits, _ and $, at most 63 characters, not starting with a digit)"
    )


# What the seed design and REFERENCE section 1 ask for, written out independently of sql/.
EXPECTED_ENUMS = {
    "InfrastructureService": [
        "VERCEL_KV",
        "VERCEL_POSTGRES",
        "VERCEL_BLOB",
        "VERCEL_BUILD",
        "VERCEL_FUNCTIONS",
        "VERCEL_EDGE_REQUESTS",
        "VERCEL_BANDWIDTH",
        "VERCEL_EDGE_CONFIG",
        "VERCEL_IMAGE_OPTIMIZATION",
    ],
    "MetricType": [
        "STORAGE_MB",
        "BANDWIDTH_GB",
        "INVOCATIONS",
        "REQUESTS",
        "OPERATIONS",
        "BUILD_MINUTES",
        "CPU_HOURS",
        "MEMORY_GB_HOURS",
        "COMPUTE_HOURS",
        "LATENCY_MS",
        "COST_USD",
    ],
    "RecommendationPriority": ["LOW", "MEDIUM", "HIGH", "CRITICAL"],
    "RecommendationStatus": [
        "PENDING",
        "REVIEWED",
        "APPROVED",
        "IMPLEMENTED",
        "DISMISSED",
        "EXPIRED",
    ],
}
TS = "timestamp without time zone"
EXPECTED_COLUMNS = {
    "InfrastructureMetric": {
        "id": "text",
        "service": "InfrastructureService",
        "metricType": "MetricType",
        "value": "double precision",
        "unit": "text",
        "timestamp": TS,
        "windowEnd": TS,
        "source": "text",
        "project": "text",
        "metadata": "jsonb",
        "createdAt": TS,
        "updatedAt": TS,
    },
    "InfrastructureLimit": {
        "id": "text",
        "service": "InfrastructureService",
        "metricType": "MetricType",
        "plan": "text",
        "limitValue": "double precision",
        "unit": "text",
        "warningThreshold": "double precision",
        "criticalThreshold": "double precision",
        "includedAmount": "double precision",
        "overageUnitPrice": "double precision",
        "isHardLimit": "boolean",
        "sourceUrl": "text",
        "sourceDate": "date",
        "updatedBy": "text",
        "createdAt": TS,
        "updatedAt": TS,
    },
    "UpgradeRecommendation": {
        "id": "text",
        "service": "InfrastructureService",
        "account": "text",
        "currentPlan": "text",
        "recommendedPlan": "text",
        "priority": "RecommendationPriority",
        "status": "RecommendationStatus",
        "title": "text",
        "reasoning": "text",
        "currentUsage": "jsonb",
        "projectedUsage": "jsonb",
        "projectedBreachAt": TS,
        "currentMonthlyCost": "double precision",
        "projectedMonthlyCost": "double precision",
        "upgradedMonthlyCost": "double precision",
        "overageAvoided": "double precision",
        "revenueAtRisk": "double precision",
        "roi": "double precision",
        "paybackDays": "double precision",
        "confidence": "double precision",
        "evidence": "jsonb",
        "reviewHistory": "jsonb",
        "reviewedBy": "text",
        "reviewedAt": TS,
        "expiresAt": TS,
        "lastSeenAt": TS,
        "createdAt": TS,
        "updatedAt": TS,
    },
    "PlanPurchase": {
        "id": "text",
        "provider": "text",
        "serviceName": "text",
        "periodStart": TS,
        "periodEnd": TS,
        "billedCost": "double precision",
        "effectiveCost": "double precision",
        "source": "text",
        "createdAt": TS,
        "updatedAt": TS,
    },
}
EXPECTED_INDEXES = {
    "InfrastructureMetric_pkey",
    "InfrastructureMetric_service_metricType_source_project_ts_key",
    "InfrastructureMetric_service_metricType_timestamp_idx",
    "InfrastructureMetric_timestamp_idx",
    "InfrastructureLimit_pkey",
    "InfrastructureLimit_service_metricType_plan_key",
    "UpgradeRecommendation_pkey",
    "UpgradeRecommendation_status_priority_idx",
    "UpgradeRecommendation_service_recommendedPlan_open_key",
    "CollectionWatermark_pkey",
    "CollectionWatermark_source_key",
    "CollectionRun_pkey",
    "CollectionRun_startedAt_idx",
    "UsageAssessment_pkey",
    "UsageAssessment_service_metricType_periodStart_key",
    "NotificationLog_pkey",
    "NotificationLog_receiver_dedupKey_key",
    "NotificationLog_receiver_fingerprint_plannedAt_idx",
    "NotificationLog_status_idx",
    "UpgradeRecommendation_account_recommendedPlan_open_key",
    "PlanPurchase_pkey",
    "PlanPurchase_provider_serviceName_periodStart_key",
}


def catalog(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        enums: dict[str, list[str]] = {}
        for typname, label in conn.execute(
            """SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
               JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
               ORDER BY t.typname, e.enumsortorder"""
        ).fetchall():
            enums.setdefault(typname, []).append(label)
        columns: dict[str, dict[str, tuple[str, int | None, bool, str | None]]] = {}
        for table, column, udt, data_type, precision, nullable, default in conn.execute(
            """SELECT table_name, column_name, udt_name, data_type, datetime_precision,
                      is_nullable = 'YES', column_default
               FROM information_schema.columns WHERE table_schema = 'public'"""
        ).fetchall():
            kind = udt if data_type == "USER-DEFINED" else data_type
            columns.setdefault(table, {})[column] = (kind, precision, nullable, default)
        constraints = {
            name: kind
            for name, kind in conn.execute(
                """SELECT c.conname, c.contype FROM pg_constraint c
                   JOIN pg_namespace n ON n.oid = c.connamespace
                   WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'c')"""
            ).fetchall()
        }
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            ).fetchall()
        }
    return {"enums": enums, "columns": columns, "constraints": constraints, "indexes": indexes}


def test_up_then_destroy_through_the_served_provider(
    empty_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    served = ServedProvider(SqlObjectProvider())
    served.configure({"databaseUrl": empty_db})
    created: list[tuple[str, str, dict]] = []

    class Forwarding(EchoMocks):
        """Hand each dynamic resource to the provider process, as the engine does on `up`."""

        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
            if args.typ != SQL_OBJECT:
                return super().new_resource(args)
            news = {k: v for k, v in args.inputs.items() if k != "__provider"}
            inputs, failures = served.check({}, news)
            assert failures == []
            id_, outs = served.create(inputs)
            created.append((args.name, id_, outs))
            return id_, outs

    try:
        run_program(Forwarding(), {"schema": "public"})
        assert [name for name, _, _ in created] == [o.name for o in SCHEMA_PLAN]

        found = catalog(empty_db)
        for enum_name, labels in EXPECTED_ENUMS.items():
            assert found["enums"][enum_name][: len(labels)] == labels, enum_name
        for table, columns in EXPECTED_COLUMNS.items():
            assert {c: found["columns"][table][c][0] for c in found["columns"][table]} == columns
            for column, (kind, precision, _, _) in found["columns"][table].items():
                if kind == TS:
                    assert precision == 3, f"{table}.{column} is TIMESTAMP(3)"
            # Rows written by Python get ids and times from the database.
            assert "gen_random_uuid()" in found["columns"][table]["id"][3]
            assert "now()" in found["columns"][table]["createdAt"][3]
            assert "now()" in found["columns"][table]["updatedAt"][3]
        assert found["indexes"] == EXPECTED_INDEXES
        assert {name for name, kind in found["constraints"].items() if kind == "p"} == {
            "InfrastructureMetric_pkey",
            "InfrastructureLimit_pkey",
            "UpgradeRecommendation_pkey",
            "CollectionWatermark_pkey",
            "CollectionRun_pkey",
            "UsageAssessment_pkey",
            "NotificationLog_pkey",
            "PlanPurchase_pkey",
        }
        assert {
            "InfrastructureLimit_warningThreshold_check",
            "InfrastructureLimit_criticalThreshold_check",
            "InfrastructureLimit_thresholds_check",
            "InfrastructureMetric_value_check",
        } <= set(found["constraints"])

        # "destroy": delete in reverse registration order.
        for _, id_, outs in reversed(created):
            served.delete(id_, outs)
        left = catalog(empty_db)
        assert left["enums"] == {} and left["columns"] == {} and left["indexes"] == set()
    finally:
        served.close()
