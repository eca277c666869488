"""Least-privilege database roles, declared with pulumi-postgresql.

The owner is the role Pulumi connects as (``databaseUrl`` / ``DATABASE_URL``): it runs the
migrations and owns every object. The jobs connect as a login role of their own (stack
config ``jobsRole``, password ``jobsPassword``, a secret) that may do exactly what the
jobs' statements need and nothing else: no DDL, no DELETE, no TRUNCATE, no writes to
``InfrastructureLimit``. If its credential leaks from CI, it cannot drop or rewrite
anything. See docs/security.md.

Every grant names its table and depends on that table's ``SqlObject``; it is also replaced
with it, so a table rebuilt by a migration gets its grants back in the same ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_postgresql as postgresql

from infra.config import OwnerConnection

COMPONENT_TYPE = "infra-monitoring:postgres:DatabaseRoles"

# Per table, what the jobs' statements need (sql/queries/*.sql; docs/security.md lists them).
TABLE_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    # collect merge_stage: INSERT … ON CONFLICT DO UPDATE … WHERE reads the row, RETURNING
    # reads the result; replace_overlaps deletes rows a window of another granularity or
    # time zone supersedes; recommend and limits diff read the series.
    "InfrastructureMetric": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    # collect: watermarks (read), record_success / record_failure (upserts).
    "CollectionWatermark": ("SELECT", "INSERT", "UPDATE"),
    # collect record_run: runs are history, inserted once, never read back or rewritten.
    "CollectionRun": ("INSERT",),
    # recommend upsert_assessment (INSERT … ON CONFLICT DO UPDATE).
    "UsageAssessment": ("SELECT", "INSERT", "UPDATE"),
    # recommend: INSERT … RETURNING, refresh, SELECT … FOR UPDATE (needs UPDATE);
    # recommendations list / show / review / approve / dismiss / implement.
    "UpgradeRecommendation": ("SELECT", "INSERT", "UPDATE"),
    # limits diff reads it; pulumi up, as the owner, is its only writer.
    "InfrastructureLimit": ("SELECT",),
}
# CONNECT to log in; TEMPORARY for collect's staging table (CREATE TEMP TABLE collect_stage).
DATABASE_PRIVILEGES = ("CONNECT", "TEMPORARY")
SCHEMA_PRIVILEGES = ("USAGE",)
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
        tables: Mapping[str, pulumi.Resource],
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
        for table, privileges in TABLE_PRIVILEGES.items():
            on = [tables[table]]
            follows = pulumi.ResourceOptions(depends_on=on, replace_with=on)
            self.grants[table] = postgresql.Grant(
                f"{name}-jobs-{table}",
                database=database,
                schema=schema,
                role=role,
                object_type="table",
                objects=[table],
                privileges=list(privileges),
                opts=pulumi.ResourceOptions.merge(child, follows),
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
                child, pulumi.ResourceOptions(depends_on=list(tables.values()))
            ),
        )
        self.register_outputs({"jobsRole": role})
