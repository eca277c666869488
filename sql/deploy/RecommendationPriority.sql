-- Deploy enum "RecommendationPriority".
-- Requires: nothing.
CREATE TYPE "RecommendationPriority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
