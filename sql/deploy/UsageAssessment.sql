-- Deploy table "UsageAssessment": the latest evaluation and forecast of each service x
-- metric in a billing period, written by `python -m jobs recommend` on every run.
-- "state" is OK / WARNING / CRITICAL / NO_DATA after the safeguards (consecutive points,
-- hysteresis, staleness); the forecast columns are usage at period end with an 80 % band,
-- and "backtest" holds the chosen method's measured accuracy and its rivals'.
-- Requires: InfrastructureService, MetricType.
CREATE TABLE "UsageAssessment" (
    "id"             TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "service"        "InfrastructureService" NOT NULL,
    "metricType"     "MetricType" NOT NULL,
    "periodStart"    TIMESTAMP(3) NOT NULL,
    "periodEnd"      TIMESTAMP(3) NOT NULL,
    "plan"           TEXT NOT NULL,
    "limitValue"     DOUBLE PRECISION NOT NULL,
    "unit"           TEXT NOT NULL,
    "state"          TEXT NOT NULL,
    "stateSince"     TIMESTAMP(3),
    "pendingState"   TEXT,
    "usage"          DOUBLE PRECISION,
    "utilisation"    DOUBLE PRECISION,
    "dataThrough"    TIMESTAMP(3),
    "method"         TEXT,
    "forecastMean"   DOUBLE PRECISION,
    "forecastLower"  DOUBLE PRECISION,
    "forecastUpper"  DOUBLE PRECISION,
    "breachAt"       TIMESTAMP(3),
    "breachAtUpper"  TIMESTAMP(3),
    "backtest"       JSONB NOT NULL DEFAULT '{}',
    "points"         INTEGER NOT NULL DEFAULT 0,
    "evaluatedAt"    TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "createdAt"      TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"      TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "UsageAssessment_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "UsageAssessment_state_check"
        CHECK ("state" IN ('OK', 'WARNING', 'CRITICAL', 'NO_DATA')),
    CONSTRAINT "UsageAssessment_period_check" CHECK ("periodEnd" > "periodStart"),
    CONSTRAINT "UsageAssessment_limitValue_check" CHECK ("limitValue" > 0)
);

CREATE UNIQUE INDEX "UsageAssessment_service_metricType_periodStart_key"
    ON "UsageAssessment" ("service", "metricType", "periodStart");
