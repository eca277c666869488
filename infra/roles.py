"""Least-privilege database roles, declared with pulumi-postgresql.

The owner is the role Pulumi connects as (``databaseUrl`` / ``DATABASE_URL``): it runs the
migrations and owns every object. The jobs connect as a login role of their own (stack
config ``jobsRole``, password ``jobsPassword``, a secret) that may do exactly what the
jobs' statements need and nothing else: no DDL, no DELETE, no TRUNCATE, no temporary
objects, no writes to ``InfrastructureLimit``, UPDATE only of the columns the jobs set,
metric rows only through the function ``merge_metrics``. If its credential leaks from CI,
it cannot drop anything, delete a metric or change a row's identity. See docs/security.md.

Every grant names its table or function and depends on that object's ``SqlObject``; it is
also replaced with it, so an object rebuilt by a migration gets its grants back in the same
``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_postgresql as postgresql

from infra.config import OwnerConnection

COMPONENT_TYPE = "infra-monitoring:postgres:DatabaseRoles"

# Per table, what the jobs' statements need (sql/queries/*.sql; docs/security.md lists them).
# UPDATE is granted on columns (UPDATE_COLUMNS below), never here, for the tables listed there.
TABLE_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    # recommend, report, backtest and limits diff read the series; collect writes them only
    # through merge_metrics (FUNCTION_PRIVILEGES).
    "InfrastructureMetric": ("SELECT",),
    # collect: watermarks (read), record_success / record_failure (upserts).
    "CollectionWatermark": ("SELECT", "INSERT"),
    # collect record_run: runs are history, inserted once, never read back or rewritten.
    "CollectionRun": ("INSERT",),
    # recommend upsert_assessment (INSERT … ON CONFLICT DO UPDATE).
    "UsageAssessment": ("SELECT", "INSERT"),
    # recommend: INSERT … RETURNING, refresh, SELECT … FOR UPDATE (needs UPDATE on a column);
    # recommendations list / show / review / approve / dismiss / implement.
    "UpgradeRecommendation": ("SELECT", "INSERT"),
    # limits diff reads it; pulumi up, as the owner, is its only writer.
    "InfrastructureLimit": ("SELECT",),
    # notify: the latest row per alert (read), INSERT … ON CONFLICT DO NOTHING, claims and
    # delivery results (UPDATE of columns).
    "NotificationLog": ("SELECT", "INSERT"),
    # collect upserts the FOCUS purchase lines; recommend, status and report read them.
    "PlanPurchase": ("SELECT", "INSERT"),
}
# The columns the jobs' UPDATEs (and ON CONFLICT DO UPDATE) set, per table: never a row's
# identity (its natural key), id or createdAt. Without table-level UPDATE (or DELETE) the
# role cannot LOCK a table in SHARE mode or stronger either (ACCESS EXCLUSIVE included).
UPDATE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    # collect record_success / record_failure.
    "CollectionWatermark": (
        "collectedThrough",
        "lastAttemptAt",
        "lastSuccessAt",
        "lastRunId",
        "lastError",
        "lastErrorAt",
        "lastNote",
        "updatedAt",
    ),
    # recommend upsert_assessment: everything but the series and period it is about.
    "UsageAssessment": (
        "periodEnd",
        "plan",
        "limitValue",
        "unit",
        "state",
        "stateSince",
        "pendingState",
        "usage",
        "utilisation",
        "dataThrough",
        "method",
        "forecastMean",
        "forecastLower",
        "forecastUpper",
        "breachAt",
        "breachAtUpper",
        "backtest",
        "points",
        "evaluatedAt",
        "updatedAt",
    ),
    # recommend refresh_recommendation; set_status (review commands, expiry).
    "UpgradeRecommendation": (
        "currentPlan",
        "priority",
        "title",
        "reasoning",
        "currentUsage",
        "projectedUsage",
        "projectedBreachAt",
        "currentMonthlyCost",
        "projectedMonthlyCost",
        "upgradedMonthlyCost",
        "overageAvoided",
        "revenueAtRisk",
        "roi",
        "paybackDays",
        "confidence",
        "evidence",
        "lastSeenAt",
        "status",
        "reviewHistory",
        "reviewedBy",
        "reviewedAt",
        "updatedAt",
    ),
    # notify assign_message, claim, finish: a message's key, its claim and its outcome.
    "NotificationLog": (
        "messageKey",
        "status",
        "attempts",
        "leaseUntil",
        "lastError",
        "sentAt",
        "updatedAt",
    ),
    # collect upsert_purchase: a purchase line imported again.
    "PlanPurchase": ("periodEnd", "billedCost", "effectiveCost", "source", "updatedAt"),
}
# Per function, what the jobs call. merge_metrics is SECURITY DEFINER (it runs as the
# owner): collect's one way to write InfrastructureMetric, replacing overlapped rows only
# with the rows that overlap them (sql/deploy/merge_metrics.sql).
FUNCTION_PRIVILEGES: Mapping[str, tuple[str, ...]] = {"merge_metrics": ("EXECUTE",)}
# CONNECT to log in; no TEMPORARY: nothing the jobs run creates a temporary object.
DATABASE_PRIVILEGES = ("CONNECT",)
# What every role (PUBLIC) keeps on the database. PostgreSQL gives PUBLIC CONNECT and
# TEMPORARY on a new database; the jobs role would hold TEMPORARY through it, so PUBLIC's is
# revoked too. Kept on destroy: deleting the grant would revoke PUBLIC's CONNECT as well.
PUBLIC_DATABASE_PRIVILEGES = ("CONNECT",)
SCHEMA_PRIVILEGES = ("USAGE",)
# One collect, recommend or report at a time uses one connection each; a leaked credential
# cannot take more than these from the server's max_connections.
JOBS_CONNECTION_LIMIT = 10
# Tables the owner adds later are readable by the jobs; writes are granted table by table.
FUTURE_TABLE_PRIVILEGES = ("SELECT",)


class DatabaseRoles(pulumi.ComponentResource):
    """The jobs' login role and its grants, through a provider connected as the owner."""

    def __init__(
        self,
        name: str,
        *,
        owner: OwnerConnection,
        schema: str,
        jobs_role: str,
        jobs_password: pulumi.Output[str],
        objects: Mapping[str, pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.provider = postgresql.Provider(
            f"{name}-owner",
            host=owner.host,
            port=owner.port,
            username=owner.username,
            password=owner.password,  # secret: encrypted in the state
            database=owner.database,
            sslmode=owner.sslmode,
            superuser=False,  # Neon's and most managed owners are not superusers
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.jobs_role = postgresql.Role(
            f"{name}-jobs",
            name=jobs_role,
            login=True,
            password=jobs_password,  # secret
            superuser=False,
            create_database=False,
            create_role=False,
            replication=False,
            bypass_row_level_security=False,
            inherit=False,
            connection_limit=JOBS_CONNECTION_LIMIT,
            roles=[],
            search_paths=[schema],  # the jobs name tables without a schema
            opts=child,
        )
        role = self.jobs_role.name
        database = owner.database
        self.grants: dict[str, postgresql.Grant] = {
            "database": postgresql.Grant(
                f"{name}-jobs-database",
                database=database,
                role=role,
                object_type="database",
                privileges=list(DATABASE_PRIVILEGES),
                opts=child,
            ),
            "public-database": postgresql.Grant(
                f"{name}-public-database",
                database=database,
                role="public",
                object_type="database",
                privileges=list(PUBLIC_DATABASE_PRIVILEGES),
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(retain_on_delete=True)
                ),
            ),
            "schema": postgresql.Grant(
                f"{name}-jobs-schema",
                database=database,
                schema=schema,
                role=role,
                object_type="schema",
                privileges=list(SCHEMA_PRIVILEGES),
                opts=child,
            ),
        }

        def object_grant(suffix: str, target: str, **grant: Any) -> postgresql.Grant:
            """A grant on one table or function: waits for it and is replaced with it, the
            old grant deleted first (its delete revokes what it granted: deleted after the
            new one's create, it would take the new grant's privileges away)."""
            on = [objects[target]]
            follows = pulumi.ResourceOptions(
                depends_on=on, replace_with=on, delete_before_replace=True
            )
            return postgresql.Grant(
                f"{name}-jobs-{target}{suffix}",
                database=database,
                schema=schema,
                role=role,
                objects=[target],
                opts=pulumi.ResourceOptions.merge(child, follows),
                **grant,
            )

        for table, privileges in TABLE_PRIVILEGES.items():
            self.grants[table] = object_grant(
                "", table, object_type="table", privileges=list(privileges)
            )
        for table, columns in UPDATE_COLUMNS.items():
            self.grants[f"{table}-update"] = object_grant(
                "-update", table, object_type="column", columns=list(columns), privileges=["UPDATE"]
            )
        for function, privileges in FUNCTION_PRIVILEGES.items():
            self.grants[function] = object_grant(
                "", function, object_type="function", privileges=list(privileges)
            )
        self.future_tables = postgresql.DefaultPrivileges(
            f"{name}-jobs-future-tables",
            database=database,
            schema=schema,
            owner=owner.username,
            role=role,
            object_type="table",
            privileges=list(FUTURE_TABLE_PRIVILEGES),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(objects.values()))
            ),
        )
        self.register_outputs({"jobsRole": role})
