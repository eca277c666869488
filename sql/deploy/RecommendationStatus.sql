-- Deploy enum "RecommendationStatus": the review lifecycle of an upgrade recommendation.
-- Requires: nothing.
CREATE TYPE "RecommendationStatus" AS ENUM (
    'PENDING',
    'REVIEWED',
    'APPROVED',
    'IMPLEMENTED',
    'DISMISSED',
    'EXPIRED'
);
