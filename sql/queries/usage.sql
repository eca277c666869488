-- Usage per service x metric, as the billing period sees it.

-- name: period_usage
-- For each service and metric type with data since period_start: the usage so far this
-- period. Cumulative metrics sum their windows; level metrics take the latest window of
-- each source and project; then these combine by sum, or by max for latency
-- (jobs.model.AGGREGATION, passed in as the arrays level_metrics and max_metrics). Windows
-- that ended by as_of only. With by_project, per service x metric x project instead: the
-- project (FOCUS Tags.ProjectId, '' for none), its ProjectName (metadata.projectName) and,
-- for cumulative metrics, the billed cost (a row's metadata.billedCost when it keeps one,
-- as cost rows do whose value is the EffectiveCost, else its value).
WITH windows AS (
    SELECT service, "metricType", source, project, value, "timestamp", "windowEnd",
           coalesce((metadata ->> 'billedCost')::double precision, value) AS billed,
           metadata ->> 'projectName' AS project_name,
           row_number() OVER (
               PARTITION BY service, "metricType", source, project ORDER BY "timestamp" DESC
           ) AS newest
    FROM "InfrastructureMetric"
    -- A window belongs to the period holding its midpoint (jobs.periods.BillingPeriod.holds).
    -- The bounds on "timestamp" alone let the index find the candidates (no window of ours
    -- is longer than a month, so none starting 32 days before the period centres in it).
    WHERE "timestamp" >= %(period_start)s - interval '32 days' AND "timestamp" < %(period_end)s
      AND "timestamp" + ("windowEnd" - "timestamp") / 2 >= %(period_start)s
      AND "timestamp" + ("windowEnd" - "timestamp") / 2 < %(period_end)s
      AND "windowEnd" <= %(as_of)s
),
per_source AS (
    SELECT service, "metricType", source, project,
           CASE WHEN "metricType"::text = ANY(%(level_metrics)s)
                THEN max(value) FILTER (WHERE newest = 1)
                ELSE sum(value) END AS value,
           CASE WHEN "metricType"::text = ANY(%(level_metrics)s) THEN NULL
                ELSE sum(billed) END AS billed,
           max(project_name) AS project_name,
           max("windowEnd") AS through
    FROM windows
    GROUP BY service, "metricType", source, project
)
SELECT service::text AS service, "metricType"::text AS metric_type,
       CASE WHEN %(by_project)s THEN project END AS project,
       CASE WHEN %(by_project)s THEN max(project_name) END AS project_name,
       CASE WHEN "metricType"::text = ANY(%(max_metrics)s) THEN max(value) ELSE sum(value) END
           AS value,
       sum(billed) AS billed,
       max(through) AS through,
       count(DISTINCT source) AS sources
FROM per_source
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
