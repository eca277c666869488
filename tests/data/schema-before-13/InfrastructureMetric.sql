-- Deploy table "InfrastructureMetric": the time series of every service's usage and cost.
-- One row per service x metric x source x window; "timestamp" is the window's start and
-- "windowEnd" its (exclusive) end. A re-collected window hits the unique key and is
-- updated in place, never duplicated.
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
    "metadata"   JSONB NOT NULL DEFAULT '{}',
    "createdAt"  TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"  TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "InfrastructureMetric_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "InfrastructureMetric_value_check" CHECK ("value" >= 0),
    CONSTRAINT "InfrastructureMetric_window_check" CHECK ("windowEnd" > "timestamp"),
    CONSTRAINT "InfrastructureMetric_source_check" CHECK ("source" <> '')
);

-- The natural key: a window of one series from one source exists once.
CREATE UNIQUE INDEX "InfrastructureMetric_service_metricType_source_timestamp_key"
    ON "InfrastructureMetric" ("service", "metricType", "source", "timestamp");

-- "This series over time" (evaluation, forecasts, charts).
CREATE INDEX "InfrastructureMetric_service_metricType_timestamp_idx"
    ON "InfrastructureMetric" ("service", "metricType", "timestamp");

-- "Everything since T" (reports, status, retention).
CREATE INDEX "InfrastructureMetric_timestamp_idx"
    ON "InfrastructureMetric" ("timestamp");
