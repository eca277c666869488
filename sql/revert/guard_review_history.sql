-- Revert function guard_review_history and its trigger.
DROP TRIGGER guard_review_history ON "UpgradeRecommendation";
DROP FUNCTION guard_review_history;
