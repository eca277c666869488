-- Deploy table "InfrastructureLimit": one plan limit per service x metric x plan,
-- written from limits.yaml by `pulumi up`.
-- Thresholds are fractions of "limitValue": warning < critical, both in (0, 1].
-- "overageUnitPrice" is USD per one "unit" beyond "includedAmount".
-- Requires: InfrastructureService, MetricType.
CREATE TABLE "InfrastructureLimit" (
    "id"                TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "service"           "InfrastructureService" NOT NULL,
    "metricType"        "MetricType" NOT NULL,
    "plan"              TEXT NOT NULL,
    "limitValue"        DOUBLE PRECISION NOT NULL,
    "unit"              TEXT NOT NULL,
    "warningThreshold"  DOUBLE PRECISION NOT NULL DEFAULT 0.75,
    "criticalThreshold" DOUBLE PRECISION NOT NULL DEFAULT 0.9,
    "includedAmount"    DOUBLE PRECISION NOT NULL DEFAULT 0,
    "overageUnitPrice"  DOUBLE PRECISION NOT NULL DEFAULT 0,
    "isHardLimit"       BOOLEAN NOT NULL DEFAULT false,
    "sourceUrl"         TEXT,
    "sourceDate"        DATE,
    "updatedBy"         TEXT,
    "createdAt"         TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"         TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "InfrastructureLimit_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "InfrastructureLimit_plan_check" CHECK ("plan" <> ''),
    CONSTRAINT "InfrastructureLimit_limitValue_check" CHECK ("limitValue" > 0),
    CONSTRAINT "InfrastructureLimit_warningThreshold_check"
        CHECK ("warningThreshold" > 0 AND "warningThreshold" <= 1),
    CONSTRAINT "InfrastructureLimit_criticalThreshold_check"
        CHECK ("criticalThreshold" > 0 AND "criticalThreshold" <= 1),
    CONSTRAINT "InfrastructureLimit_thresholds_check" CHECK ("warningThreshold" < "criticalThreshold"),
    CONSTRAINT "InfrastructureLimit_includedAmount_check" CHECK ("includedAmount" >= 0),
    CONSTRAINT "InfrastructureLimit_overageUnitPrice_check" CHECK ("overageUnitPrice" >= 0)
);

CREATE UNIQUE INDEX "InfrastructureLimit_service_metricType_plan_key"
    ON "InfrastructureLimit" ("service", "metricType", "plan");
