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
-- service x project (FOCUS Tags.ProjectName, the rows' metadata.projects) x day instead,
-- each project's share of the row billed alike.
SELECT m.service::text AS service, CASE WHEN %(by_project)s THEN p.key END AS project,
       date_trunc('day', m."timestamp") AS day,
       sum(CASE WHEN %(by_project)s THEN p.value::double precision ELSE m.value END
           * coalesce((m.metadata ->> 'billedCost')::double precision / nullif(m.value, 0), 1))
           AS value
FROM "InfrastructureMetric" AS m
LEFT JOIN LATERAL jsonb_each_text(
    CASE WHEN %(by_project)s AND jsonb_typeof(m.metadata -> 'projects') = 'object'
         THEN m.metadata -> 'projects' ELSE '{}'::jsonb END
) AS p ON true
WHERE m."metricType" = 'COST_USD' AND m."timestamp" >= %(since)s AND m."timestamp" < %(until)s
  AND (NOT %(by_project)s OR p.key IS NOT NULL)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
