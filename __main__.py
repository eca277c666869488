"""Pulumi program (wiring only): read the stack config, declare the monitoring schema."""

import pulumi

from infra.config import StackConfig
from infra.errors import run_errors
from infra.schema import MonitoringSchema

with run_errors():
    config = StackConfig.load(pulumi.Config())
    schema = MonitoringSchema("monitoring", schema=config.schema)

pulumi.export("schema", config.schema)
pulumi.export("objects", schema.object_ids)
