-- Revert table "InfrastructureMetric" (its indexes and constraints go with it).
DROP TABLE "InfrastructureMetric";
