-- Revert enum "RecommendationStatus".
DROP TYPE "RecommendationStatus";
