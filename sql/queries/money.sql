-- Reads for the money checks: the FOCUS purchase lines (`PlanPurchase`), the plans accounts
-- really pay for, and the billed cost per day for budgets.

-- name: recent_purchases
-- Purchases whose charge period ends after %(since)s and had begun by %(as_of)s (--now),
-- newest first.
SELECT provider, "serviceName" AS service_name, "periodStart" AS start, "periodEnd" AS "end",
       "billedCost" AS billed_cost, "effectiveCost" AS effective_cost
FROM "PlanPurchase"
WHERE "periodEnd" > %(since)s AND "periodStart" <= %(as_of)s
ORDER BY "periodStart" DESC, provider, "serviceName";

-- name: daily_billed
-- Per service x day, the billed cost in [since, until): a cost row's billedCost when it
-- keeps one (its value is then EffectiveCost), else its value. With %(by_project)s, per
-- service x project x day instead: the row's project (FOCUS Tags.ProjectId) and its
-- ProjectName (metadata.projectName), rows without a project left out.
SELECT m.service::text AS service,
       CASE WHEN %(by_project)s THEN m.project END AS project,
       CASE WHEN %(by_project)s THEN m.metadata ->> 'projectName' END AS project_name,
       date_trunc('day', m."timestamp") AS day,
       sum(coalesce((m.metadata ->> 'billedCost')::double precision, m.value)) AS value
FROM "InfrastructureMetric" AS m
WHERE m."metricType" = 'COST_USD' AND m."timestamp" >= %(since)s AND m."timestamp" < %(until)s
  AND (NOT %(by_project)s OR m.project <> '')
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4;
