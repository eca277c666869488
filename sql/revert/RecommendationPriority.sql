-- Revert enum "RecommendationPriority".
DROP TYPE "RecommendationPriority";
