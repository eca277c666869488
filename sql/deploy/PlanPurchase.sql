-- Deploy table "PlanPurchase": subscription purchases seen in FOCUS charges
-- (ChargeCategory = Purchase, such as Vercel's "Pro"): the plan an account really pays for,
-- compared with limits.yaml by `recommend`, `status` and the report.
-- One row per provider x purchase x charge period; a re-import updates it in place.
-- Requires: nothing.
CREATE TABLE "PlanPurchase" (
    "id"            TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "provider"      TEXT NOT NULL,
    "serviceName"   TEXT NOT NULL,
    "periodStart"   TIMESTAMP(3) NOT NULL,
    "periodEnd"     TIMESTAMP(3) NOT NULL,
    "billedCost"    DOUBLE PRECISION NOT NULL,
    "effectiveCost" DOUBLE PRECISION NOT NULL,
    "source"        TEXT NOT NULL,
    "createdAt"     TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"     TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "PlanPurchase_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlanPurchase_period_check" CHECK ("periodEnd" > "periodStart")
);

-- The natural key: one purchase of one provider per charge period.
CREATE UNIQUE INDEX "PlanPurchase_provider_serviceName_periodStart_key"
    ON "PlanPurchase" ("provider", "serviceName", "periodStart");
