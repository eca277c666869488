"""Pulumi program (wiring only): read the stack config and limits file, declare the schema,
the plan limits and the jobs' least-privilege role."""

import pulumi

from infra.config import OwnerConnection, StackConfig
from infra.dynamic import young_collections_only
from infra.errors import run_errors
from infra.limits import PlanLimits
from infra.provider import owner_dsn
from infra.roles import DatabaseRoles
from infra.schema import MonitoringSchema
from jobs.limits.loader import load as load_limits

young_collections_only()  # one resource per limit row: keep evaluation linear

with run_errors():
    stack = pulumi.Config()
    config = StackConfig.load(stack)
    owner = OwnerConnection.from_dsn(*owner_dsn(stack))
    # Validated before any resource exists: a bad file declares nothing.
    limits = load_limits(config.limits_path, name=config.limits_file)
    schema = MonitoringSchema("monitoring", schema=config.schema)
    plan_limits = PlanLimits(
        "limits",
        limits.rows(),
        schema=config.schema,
        table=schema.objects["InfrastructureLimit"],
    )
    roles = DatabaseRoles(
        "roles",
        owner=owner,
        schema=config.schema,
        jobs_role=config.jobs_role,
        jobs_password=config.jobs_password,
        objects=schema.objects,
    )

pulumi.export("schema", config.schema)
pulumi.export("objects", schema.object_ids)
pulumi.export("limitRows", len(plan_limits.rows))
pulumi.export("jobsRole", roles.jobs_role.name)
