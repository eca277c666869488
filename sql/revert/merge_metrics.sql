-- Revert function merge_metrics (whatever its arguments).
DROP FUNCTION merge_metrics;
