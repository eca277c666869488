"""The objects of the monitoring schema, in creation order.

Rollback runs this list backwards: first the functions (and the triggers that call
them), then the objects added after the seed migration, then the seed's own rollback
order: the three tables (UpgradeRecommendation first), then the four enums.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from jobs.paths import SQL_DIR


class ObjectKind(enum.StrEnum):
    ENUM = "enum"
    TABLE = "table"
    # A function, with the triggers that call it (created and dropped by the same files).
    FUNCTION = "function"


@dataclass(frozen=True)
class SchemaObject:
    name: str
    kind: ObjectKind

    @property
    def deploy_file(self) -> Path:
        return SQL_DIR / "deploy" / f"{self.name}.sql"

    @property
    def revert_file(self) -> Path:
        return SQL_DIR / "revert" / f"{self.name}.sql"

    def deploy_sql(self) -> str:
        return self.deploy_file.read_text(encoding="utf-8")

    def revert_sql(self) -> str:
        return self.revert_file.read_text(encoding="utf-8")


SCHEMA_PLAN: tuple[SchemaObject, ...] = (
    SchemaObject("InfrastructureService", ObjectKind.ENUM),
    SchemaObject("MetricType", ObjectKind.ENUM),
    SchemaObject("RecommendationPriority", ObjectKind.ENUM),
    SchemaObject("RecommendationStatus", ObjectKind.ENUM),
    SchemaObject("InfrastructureMetric", ObjectKind.TABLE),
    SchemaObject("InfrastructureLimit", ObjectKind.TABLE),
    SchemaObject("UpgradeRecommendation", ObjectKind.TABLE),
    SchemaObject("CollectionWatermark", ObjectKind.TABLE),
    SchemaObject("CollectionRun", ObjectKind.TABLE),
    SchemaObject("UsageAssessment", ObjectKind.TABLE),
    SchemaObject("NotificationLog", ObjectKind.TABLE),
    SchemaObject("PlanPurchase", ObjectKind.TABLE),
    SchemaObject("merge_metrics", ObjectKind.FUNCTION),
    SchemaObject("guard_review_history", ObjectKind.FUNCTION),
)

ENUM_NAMES = tuple(o.name for o in SCHEMA_PLAN if o.kind is ObjectKind.ENUM)
TABLE_NAMES = tuple(o.name for o in SCHEMA_PLAN if o.kind is ObjectKind.TABLE)
FUNCTION_NAMES = tuple(o.name for o in SCHEMA_PLAN if o.kind is ObjectKind.FUNCTION)
