-- Revert enum "MetricType".
DROP TYPE "MetricType";
