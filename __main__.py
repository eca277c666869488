"""Pulumi program (wiring only): read the stack config and limits file, declare the schema
and the plan limits."""

import pulumi

from infra.config import StackConfig
from infra.dynamic import young_collections_only
from infra.errors import run_errors
from infra.limits import PlanLimits
from infra.schema import MonitoringSchema
from jobs.limits.loader import load as load_limits

young_collections_only()  # one resource per limit row: keep evaluation linear

with run_errors():
    config = StackConfig.load(pulumi.Config())
    # Validated before any resource exists: a bad file declares nothing.
    limits = load_limits(config.limits_path, name=config.limits_file)
    schema = MonitoringSchema("monitoring", schema=config.schema)
    plan_limits = PlanLimits(
        "limits",
        limits.rows(),
        schema=config.schema,
        table=schema.objects["InfrastructureLimit"],
    )

pulumi.export("schema", config.schema)
pulumi.export("objects", schema.object_ids)
pulumi.export("limitRows", len(plan_limits.rows))
