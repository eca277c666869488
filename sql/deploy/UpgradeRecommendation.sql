-- Deploy table "UpgradeRecommendation": upgrade advice that people review.
-- Money is USD for the current billing period; "roi" is a ratio (0.5 = 50 %);
-- "currentUsage"/"projectedUsage" map MetricType -> value for every metric that drives
-- the advice; "evidence" holds the data window, methods and formula inputs;
-- "reviewHistory" is an append-only list of {at, by, from, to, note, reason}.
-- Requires: InfrastructureService, RecommendationPriority, RecommendationStatus.
CREATE TABLE "UpgradeRecommendation" (
    "id"                   TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "service"              "InfrastructureService" NOT NULL,
    -- The vendor account (limits.yaml `accounts`) the advice is for: one plan decision for
    -- all its services; "service" is then the one whose limit comes first. NULL on rows
    -- written when advice was per service.
    "account"              TEXT,
    "currentPlan"          TEXT NOT NULL,
    "recommendedPlan"      TEXT NOT NULL,
    "priority"             "RecommendationPriority" NOT NULL DEFAULT 'MEDIUM',
    "status"               "RecommendationStatus" NOT NULL DEFAULT 'PENDING',
    "title"                TEXT NOT NULL,
    "reasoning"            TEXT NOT NULL,
    "currentUsage"         JSONB NOT NULL DEFAULT '{}',
    "projectedUsage"       JSONB NOT NULL DEFAULT '{}',
    "projectedBreachAt"    TIMESTAMP(3),
    "currentMonthlyCost"   DOUBLE PRECISION NOT NULL DEFAULT 0,
    "projectedMonthlyCost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "upgradedMonthlyCost"  DOUBLE PRECISION NOT NULL DEFAULT 0,
    "overageAvoided"       DOUBLE PRECISION NOT NULL DEFAULT 0,
    "revenueAtRisk"        DOUBLE PRECISION NOT NULL DEFAULT 0,
    "roi"                  DOUBLE PRECISION,
    "paybackDays"          DOUBLE PRECISION,
    "confidence"           DOUBLE PRECISION NOT NULL DEFAULT 0,
    "evidence"             JSONB NOT NULL DEFAULT '{}',
    "reviewHistory"        JSONB NOT NULL DEFAULT '[]',
    "reviewedBy"           TEXT,
    "reviewedAt"           TIMESTAMP(3),
    "expiresAt"            TIMESTAMP(3),
    -- The last run that found the recommendation's condition still true.
    "lastSeenAt"           TIMESTAMP(3),
    "createdAt"            TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"            TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "UpgradeRecommendation_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "UpgradeRecommendation_plans_check" CHECK ("currentPlan" <> "recommendedPlan"),
    CONSTRAINT "UpgradeRecommendation_costs_check" CHECK (
        "currentMonthlyCost" >= 0 AND "projectedMonthlyCost" >= 0 AND "upgradedMonthlyCost" >= 0
        AND "overageAvoided" >= 0 AND "revenueAtRisk" >= 0
    ),
    CONSTRAINT "UpgradeRecommendation_paybackDays_check" CHECK ("paybackDays" >= 0),
    CONSTRAINT "UpgradeRecommendation_confidence_check" CHECK ("confidence" >= 0 AND "confidence" <= 1),
    CONSTRAINT "UpgradeRecommendation_reviewHistory_check" CHECK (jsonb_typeof("reviewHistory") = 'array')
);

-- The review queue: open items by priority.
CREATE INDEX "UpgradeRecommendation_status_priority_idx"
    ON "UpgradeRecommendation" ("status", "priority");

-- At most one open recommendation per service and target plan; later runs refresh it.
CREATE UNIQUE INDEX "UpgradeRecommendation_service_recommendedPlan_open_key"
    ON "UpgradeRecommendation" ("service", "recommendedPlan")
    WHERE "status" IN ('PENDING', 'REVIEWED', 'APPROVED');

-- At most one open recommendation per account and target plan.
CREATE UNIQUE INDEX "UpgradeRecommendation_account_recommendedPlan_open_key"
    ON "UpgradeRecommendation" ("account", "recommendedPlan")
    WHERE "status" IN ('PENDING', 'REVIEWED', 'APPROVED') AND "account" IS NOT NULL;
