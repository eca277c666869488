-- Reads of the FOCUS purchase lines (`PlanPurchase`): the plans accounts really pay for.

-- name: recent_purchases
-- Purchases whose charge period ends after %(since)s, newest first.
SELECT provider, "serviceName" AS service_name, "periodStart" AS start, "periodEnd" AS "end",
       "billedCost" AS billed_cost, "effectiveCost" AS effective_cost
FROM "PlanPurchase"
WHERE "periodEnd" > %(since)s
ORDER BY "periodStart" DESC, provider, "serviceName";

-- name: daily_project_costs
-- Per service x project (FOCUS Tags.ProjectName, kept in the cost rows' metadata) x day, the
-- billed cost in [since, until).
SELECT m.service::text AS service, p.key AS project,
       date_trunc('day', m."timestamp") AS day, sum(p.value::double precision) AS value
FROM "InfrastructureMetric" AS m, jsonb_each_text(m.metadata -> 'projects') AS p
WHERE m."metricType" = 'COST_USD' AND m."timestamp" >= %(since)s AND m."timestamp" < %(until)s
  AND jsonb_typeof(m.metadata -> 'projects') = 'object'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
