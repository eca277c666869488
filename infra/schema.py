"""The monitoring schema as Pulumi resources: one SqlObject per file pair in sql/."""

from __future__ import annotations

from typing import Any

import pulumi

from infra.dynamic import DynamicResource
from infra.provider import PROVIDER_VERSION, SqlObjectProvider
from jobs.schema.migrate import ObjectSpec
from jobs.schema.plan import SCHEMA_PLAN

COMPONENT_TYPE = "infra-monitoring:postgres:MonitoringSchema"


class SqlObject(DynamicResource, module="postgres", name="SqlObject"):
    """An enum or table created by ``sql/deploy/<name>.sql`` and dropped by its revert."""

    shape: pulumi.Output[Any]
    adopted: pulumi.Output[bool]

    def __init__(
        self, resource_name: str, spec: ObjectSpec, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "objectName": spec.name,
            "kind": spec.kind.value,
            "schema": spec.schema,
            "deploySql": spec.deploy_sql,
            "revertSql": spec.revert_sql,
            "providerVersion": PROVIDER_VERSION,
            # Outputs, filled by the provider.
            "shape": None,
            "adopted": None,
        }
        super().__init__(SqlObjectProvider(), resource_name, props, opts)


class MonitoringSchema(pulumi.ComponentResource):
    """The four enums and three tables, chained so that destroy runs the seed's rollback order."""

    def __init__(self, name: str, schema: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.objects: dict[str, SqlObject] = {}
        previous: SqlObject | None = None
        for obj in SCHEMA_PLAN:
            previous = SqlObject(
                obj.name,
                ObjectSpec.from_plan(obj, schema),
                pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else []),
            )
            self.objects[obj.name] = previous
        self.object_ids = pulumi.Output.all(*(o.id for o in self.objects.values()))
        self.register_outputs({"objects": self.object_ids})
