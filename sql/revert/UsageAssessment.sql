-- Revert table "UsageAssessment".
DROP TABLE "UsageAssessment";
