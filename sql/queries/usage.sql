-- Usage per service x metric, as the billing period sees it.

-- name: period_usage
-- For each service and metric type with data since period_start: the usage so far this
-- period. Cumulative metrics sum their windows; level metrics take the latest window of
-- each source and project; then these combine by sum, or by max for latency
-- (jobs.model.AGGREGATION, passed in as the arrays level_metrics and max_metrics). Windows
-- that ended by as_of only.
WITH windows AS (
    SELECT service, "metricType", source, project, value, "timestamp", "windowEnd",
           row_number() OVER (
               PARTITION BY service, "metricType", source, project ORDER BY "timestamp" DESC
           ) AS newest
    FROM "InfrastructureMetric"
    -- A window belongs to the period holding its midpoint (jobs.periods.BillingPeriod.holds).
    WHERE "timestamp" + ("windowEnd" - "timestamp") / 2 >= %(period_start)s
      AND "timestamp" + ("windowEnd" - "timestamp") / 2 < %(period_end)s
      AND "windowEnd" <= %(as_of)s
),
per_source AS (
    SELECT service, "metricType", source, project,
           CASE WHEN "metricType"::text = ANY(%(level_metrics)s)
                THEN max(value) FILTER (WHERE newest = 1)
                ELSE sum(value) END AS value,
           max("windowEnd") AS through
    FROM windows
    GROUP BY service, "metricType", source, project
)
SELECT service::text AS service, "metricType"::text AS metric_type,
       CASE WHEN "metricType"::text = ANY(%(max_metrics)s) THEN max(value) ELSE sum(value) END
           AS value,
       max(through) AS through,
       count(DISTINCT source) AS sources
FROM per_source
GROUP BY service, "metricType"
ORDER BY 1, 2;
