-- Revert table "UpgradeRecommendation".
DROP TABLE "UpgradeRecommendation";
