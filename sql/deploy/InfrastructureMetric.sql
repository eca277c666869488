-- Deploy table "InfrastructureMetric": the time series of every service's usage and cost.
-- One row per service x metric x source x project x window; "timestamp" is the window's
-- start and "windowEnd" its (exclusive) end. "project" is the provider's project of a
-- usage line (FOCUS Tags.ProjectId; '' when a line has none or the source has no
-- projects), so exports split by project never overwrite each other. A re-collected
-- window hits the unique key and is updated in place, never duplicated. Added later, in
-- place: "project" and the key that holds it.
-- Requires: InfrastructureService, MetricType.
CREATE TABLE "InfrastructureMetric" (
    "id"         TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "service"    "InfrastructureService" NOT NULL,
    "metricType" "MetricType" NOT NULL,
    "value"      DOUBLE PRECISION NOT NULL,
    "unit"       TEXT NOT NULL,
    "timestamp"  TIMESTAMP(3) NOT NULL,
    "windowEnd"  TIMESTAMP(3) NOT NULL,
    "source"     TEXT NOT NULL,
    "project"    TEXT NOT NULL DEFAULT '',
    "metadata"   JSONB NOT NULL DEFAULT '{}',
    "createdAt"  TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"  TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "InfrastructureMetric_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "InfrastructureMetric_value_check" CHECK ("value" >= 0),
    CONSTRAINT "InfrastructureMetric_window_check" CHECK ("windowEnd" > "timestamp"),
    CONSTRAINT "InfrastructureMetric_source_check" CHECK ("source" <> '')
);

-- The natural key: a window of one series of one project from one source exists once.
CREATE UNIQUE INDEX "InfrastructureMetric_service_metricType_source_project_ts_key"
    ON "InfrastructureMetric" ("service", "metricType", "source", "project", "timestamp");

-- "This series over time" (evaluation, forecasts, charts).
CREATE INDEX "InfrastructureMetric_service_metricType_timestamp_idx"
    ON "InfrastructureMetric" ("service", "metricType", "timestamp");

-- "Everything since T" (reports, status, retention).
CREATE INDEX "InfrastructureMetric_timestamp_idx"
    ON "InfrastructureMetric" ("timestamp");
