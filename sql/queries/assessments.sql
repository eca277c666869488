-- The stored evaluations and forecasts (UsageAssessment), read by `status` and `report`.

-- name: period_assessments
-- The latest assessment of every service x metric in the billing period starting at
-- period_start (one row each: the table's unique key is service, metric, period start),
-- if it was made by as_of: a later evaluation saw data after it.
SELECT service::text AS service, "metricType"::text AS metric_type, plan,
       "limitValue" AS limit_value, unit, state, "stateSince" AS state_since,
       "pendingState" AS pending_state, usage, utilisation, "dataThrough" AS data_through,
       method, "forecastMean" AS forecast_mean, "forecastLower" AS forecast_lower,
       "forecastUpper" AS forecast_upper, "breachAt" AS breach_at,
       "breachAtUpper" AS breach_at_upper, backtest -> 'bandReliability' ->> 'text' AS band_text, points,
       "evaluatedAt" AS evaluated_at
FROM "UsageAssessment"
WHERE "periodStart" = %(period_start)s AND "evaluatedAt" <= %(as_of)s
ORDER BY service, "metricType";
