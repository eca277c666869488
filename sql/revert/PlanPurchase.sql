-- Revert table "PlanPurchase".
DROP TABLE "PlanPurchase";
