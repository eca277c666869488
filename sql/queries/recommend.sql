-- Reads and writes of `python -m jobs recommend` and `python -m jobs recommendations`.

-- name: daily_series
-- One value per service x metric x day: the day's amount for metrics that accumulate
-- (summed over windows and sources, one pass); the day's peak for levels, per source,
-- then combined across sources by sum, or by max for latency. Only windows that ended by
-- as_of count (`--now` means "as of": nothing after it is seen).
SELECT service::text AS service, "metricType"::text AS metric_type,
       date_trunc('day', "timestamp") AS day, sum(value) AS value
FROM "InfrastructureMetric"
WHERE "timestamp" >= %(since)s AND "timestamp" < %(until)s AND "windowEnd" <= %(as_of)s
  AND NOT ("metricType" = ANY(%(level_metrics)s::"MetricType"[]))
GROUP BY service, "metricType", date_trunc('day', "timestamp")
UNION ALL
SELECT service::text, "metricType"::text, day,
       CASE WHEN "metricType" = ANY(%(max_metrics)s::"MetricType"[]) THEN max(value)
            ELSE sum(value) END
FROM (
    SELECT service, "metricType", source, date_trunc('day', "timestamp") AS day,
           max(value) AS value
    FROM "InfrastructureMetric"
    WHERE "timestamp" >= %(since)s AND "timestamp" < %(until)s AND "windowEnd" <= %(as_of)s
      AND "metricType" = ANY(%(level_metrics)s::"MetricType"[])
    GROUP BY service, "metricType", source, project, date_trunc('day', "timestamp")
) AS per_source
GROUP BY service, "metricType", day
ORDER BY 1, 2, 3;

-- name: period_points
-- The evaluation points of the period: at each window end (or when the window was last
-- collected, if earlier), the usage so far for accumulating metrics, the level otherwise;
-- windows that ended by as_of only.
WITH by_end AS (
    SELECT service, "metricType", least("windowEnd", "updatedAt") AS at,
           CASE WHEN "metricType"::text = ANY(%(max_metrics)s) THEN max(value)
                ELSE sum(value) END AS value
    FROM "InfrastructureMetric"
    -- A window belongs to the period holding its midpoint (jobs.periods.BillingPeriod.holds).
    -- The bounds on "timestamp" alone let the index find the candidates (no window of ours
    -- is longer than a month, so none starting 32 days before the period centres in it).
    WHERE "timestamp" >= %(period_start)s - interval '32 days' AND "timestamp" < %(period_end)s
      AND "timestamp" + ("windowEnd" - "timestamp") / 2 >= %(period_start)s
      AND "timestamp" + ("windowEnd" - "timestamp") / 2 < %(period_end)s
      AND "windowEnd" <= %(as_of)s
    GROUP BY service, "metricType", least("windowEnd", "updatedAt")
)
-- One row per series with its points as two arrays: far fewer rows to ship and decode.
, points AS (
    SELECT service, "metricType", at,
           CASE WHEN "metricType"::text = ANY(%(level_metrics)s) THEN value
                ELSE sum(value) OVER (PARTITION BY service, "metricType" ORDER BY at) END AS value
    FROM by_end
)
SELECT service::text AS service, "metricType"::text AS metric_type,
       array_agg(at ORDER BY at) AS times, array_agg(value ORDER BY at) AS "values"
FROM points
GROUP BY service, "metricType";

-- name: upsert_assessment
INSERT INTO "UsageAssessment" (
    service, "metricType", "periodStart", "periodEnd", plan, "limitValue", unit, state,
    "stateSince", "pendingState", usage, utilisation, "dataThrough", method, "forecastMean",
    "forecastLower", "forecastUpper", "breachAt", "breachAtUpper", backtest, points,
    "evaluatedAt"
) VALUES (
    %(service)s, %(metric_type)s, %(period_start)s, %(period_end)s, %(plan)s, %(limit)s,
    %(unit)s, %(state)s, %(state_since)s, %(pending)s, %(usage)s, %(utilisation)s,
    %(data_through)s, %(method)s, %(mean)s, %(lower)s, %(upper)s, %(breach_at)s,
    %(breach_at_upper)s, %(backtest)s, %(points)s, %(now)s
)
ON CONFLICT (service, "metricType", "periodStart") DO UPDATE SET
    "periodEnd" = EXCLUDED."periodEnd", plan = EXCLUDED.plan,
    "limitValue" = EXCLUDED."limitValue", unit = EXCLUDED.unit, state = EXCLUDED.state,
    "stateSince" = EXCLUDED."stateSince", "pendingState" = EXCLUDED."pendingState",
    usage = EXCLUDED.usage, utilisation = EXCLUDED.utilisation,
    "dataThrough" = EXCLUDED."dataThrough", method = EXCLUDED.method,
    "forecastMean" = EXCLUDED."forecastMean", "forecastLower" = EXCLUDED."forecastLower",
    "forecastUpper" = EXCLUDED."forecastUpper", "breachAt" = EXCLUDED."breachAt",
    "breachAtUpper" = EXCLUDED."breachAtUpper", backtest = EXCLUDED.backtest,
    points = EXCLUDED.points, "evaluatedAt" = EXCLUDED."evaluatedAt",
    "updatedAt" = timezone('UTC', now());

-- name: open_recommendation
SELECT id, status::text AS status, priority::text AS priority
FROM "UpgradeRecommendation"
WHERE account = %(account)s AND "recommendedPlan" = %(plan)s
  AND status IN ('PENDING', 'REVIEWED', 'APPROVED')
FOR UPDATE;

-- name: last_dismissal
-- The newest dismissal of this advice: when (from the review history) and at what priority.
-- Rows written when advice was per service (no account) count for the account holding
-- their service: their dismissal snoozes the account's advice that superseded them.
SELECT priority::text AS priority,
       coalesce((
           SELECT max((entry ->> 'at')::timestamp)
           FROM jsonb_array_elements("reviewHistory") AS entry
           WHERE entry ->> 'to' = 'DISMISSED'
       ), "updatedAt") AS dismissed_at
FROM "UpgradeRecommendation"
WHERE "recommendedPlan" = %(plan)s AND status = 'DISMISSED'
  AND (account = %(account)s OR (account IS NULL AND service::text = ANY(%(services)s)))
ORDER BY dismissed_at DESC
LIMIT 1;

-- name: insert_recommendation
-- "createdAt" is the run's time (--now), so that reading as of a time sees what existed.
INSERT INTO "UpgradeRecommendation" (
    account, service, "currentPlan", "recommendedPlan", priority, status, title, reasoning,
    "currentUsage", "projectedUsage", "projectedBreachAt", "currentMonthlyCost",
    "projectedMonthlyCost", "upgradedMonthlyCost", "overageAvoided", "revenueAtRisk", roi,
    "paybackDays", confidence, evidence, "expiresAt", "lastSeenAt", "createdAt"
) VALUES (
    %(account)s, %(service)s, %(current_plan)s, %(recommended_plan)s, %(priority)s, 'PENDING',
    %(title)s,
    %(reasoning)s, %(current_usage)s, %(projected_usage)s, %(breach_at)s, %(current_cost)s,
    %(projected_cost)s, %(upgraded_cost)s, %(overage_avoided)s, %(revenue_at_risk)s, %(roi)s,
    %(payback_days)s, %(confidence)s, %(evidence)s, %(expires_at)s, %(now)s, %(now)s
)
RETURNING id;

-- name: refresh_recommendation
-- Later runs refresh the numbers of the open recommendation instead of adding another.
UPDATE "UpgradeRecommendation" SET
    "currentPlan" = %(current_plan)s, priority = %(priority)s, title = %(title)s,
    reasoning = %(reasoning)s, "currentUsage" = %(current_usage)s,
    "projectedUsage" = %(projected_usage)s, "projectedBreachAt" = %(breach_at)s,
    "currentMonthlyCost" = %(current_cost)s, "projectedMonthlyCost" = %(projected_cost)s,
    "upgradedMonthlyCost" = %(upgraded_cost)s, "overageAvoided" = %(overage_avoided)s,
    "revenueAtRisk" = %(revenue_at_risk)s, roi = %(roi)s, "paybackDays" = %(payback_days)s,
    confidence = %(confidence)s, evidence = %(evidence)s, "lastSeenAt" = %(now)s,
    "updatedAt" = timezone('UTC', now())
WHERE id = %(id)s;

-- name: open_recommendations
SELECT id, account, service::text AS service, "recommendedPlan" AS recommended_plan,
       status::text AS status, "lastSeenAt" AS last_seen_at, "expiresAt" AS expires_at
FROM "UpgradeRecommendation"
WHERE status IN ('PENDING', 'REVIEWED', 'APPROVED')
ORDER BY "createdAt"
FOR UPDATE;

-- name: recommendation_for_update
SELECT id, status::text AS status FROM "UpgradeRecommendation" WHERE id = %(id)s FOR UPDATE;

-- name: await_bill
-- An open recommendation whose plan limits.yaml names, until the bill shows it paid for:
-- the note in its evidence (written when it changes).
UPDATE "UpgradeRecommendation" SET
    evidence = jsonb_set(evidence, '{awaitingBill}', to_jsonb(%(note)s::text)),
    "updatedAt" = timezone('UTC', now())
WHERE id = %(id)s AND evidence ->> 'awaitingBill' IS DISTINCT FROM %(note)s;

-- name: awaiting_bill
SELECT id, account, "recommendedPlan" AS recommended_plan, status::text AS status,
       evidence ->> 'awaitingBill' AS note
FROM "UpgradeRecommendation"
WHERE status IN ('PENDING', 'REVIEWED', 'APPROVED') AND evidence ? 'awaitingBill'
ORDER BY "createdAt";

-- name: set_status
-- A status change ends any wait for the bill.
UPDATE "UpgradeRecommendation" SET
    status = %(status)s,
    evidence = evidence - 'awaitingBill',
    "reviewHistory" = "reviewHistory" || jsonb_build_array(%(entry)s::jsonb),
    "reviewedBy" = %(by)s, "reviewedAt" = %(at)s,
    "updatedAt" = timezone('UTC', now())
WHERE id = %(id)s;

-- name: recommendations
-- Whole rows: the ones with one of %(statuses)s, or the one with %(id)s. With %(as_of)s,
-- as they stood then (report --now): created by then, with the review entries made by then
-- and the status they give (the last entry's "to"; before the first entry, its "from"; a
-- row without history keeps its status). The history is append-only
-- (sql/deploy/guard_review_history.sql); the numbers are the latest a run wrote.
WITH rows AS (
    SELECT r.*, h.history_then,
           CASE WHEN %(as_of)s::timestamp IS NULL THEN r.status::text
                ELSE coalesce(h.last_to, h.first_from, r.status::text) END AS status_then
    FROM "UpgradeRecommendation" AS r
    CROSS JOIN LATERAL (
        SELECT coalesce(jsonb_agg(e ORDER BY n) FILTER (WHERE seen), '[]'::jsonb)
                   AS history_then,
               (array_agg(e ->> 'to' ORDER BY n DESC) FILTER (WHERE seen))[1] AS last_to,
               (array_agg(e ->> 'from' ORDER BY n))[1] AS first_from
        FROM jsonb_array_elements(r."reviewHistory") WITH ORDINALITY AS x(e, n)
        CROSS JOIN LATERAL (
            SELECT %(as_of)s::timestamp IS NULL OR (e ->> 'at')::timestamp <= %(as_of)s AS seen
        ) AS v
    ) AS h
    WHERE %(as_of)s::timestamp IS NULL OR r."createdAt" <= %(as_of)s
)
SELECT id, account, service::text AS service, "currentPlan" AS current_plan,
       "recommendedPlan" AS recommended_plan, priority::text AS priority,
       status_then AS status, title, reasoning, "currentUsage" AS current_usage,
       "projectedUsage" AS projected_usage, "projectedBreachAt" AS breach_at,
       "currentMonthlyCost" AS current_cost, "projectedMonthlyCost" AS projected_cost,
       "upgradedMonthlyCost" AS upgraded_cost, "overageAvoided" AS overage_avoided,
       "revenueAtRisk" AS revenue_at_risk, roi, "paybackDays" AS payback_days, confidence,
       evidence, history_then AS review_history, "expiresAt" AS expires_at,
       "lastSeenAt" AS last_seen_at, "createdAt" AS created_at, "updatedAt" AS updated_at
FROM rows
WHERE status_then = ANY(%(statuses)s) OR id = %(id)s
ORDER BY CASE priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END,
         "updatedAt" DESC;

-- name: resolve_id
-- The ids a full id or a prefix of one (`show 78b75bab`) names; more than one: ambiguous.
SELECT id FROM "UpgradeRecommendation"
WHERE id = %(id)s OR (length(%(id)s) >= 4 AND starts_with(id, %(id)s))
ORDER BY id = %(id)s DESC, id
LIMIT 5;
