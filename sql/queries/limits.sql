-- The rows of "InfrastructureLimit" that limits.yaml manages (jobs/limits/store.py).
-- The caller sets search_path to the target schema inside the transaction.

-- name: rows
SELECT id, service::text AS service, "metricType"::text AS "metricType", plan,
       "limitValue", unit, "warningThreshold", "criticalThreshold", "includedAmount",
       "overageUnitPrice", "isHardLimit", "sourceUrl", "sourceDate",
       "createdAt", "updatedAt", "updatedBy"
FROM "InfrastructureLimit"
ORDER BY service, "metricType", plan;

-- name: row
SELECT id, service::text AS service, "metricType"::text AS "metricType", plan,
       "limitValue", unit, "warningThreshold", "criticalThreshold", "includedAmount",
       "overageUnitPrice", "isHardLimit", "sourceUrl", "sourceDate",
       "createdAt", "updatedAt", "updatedBy"
FROM "InfrastructureLimit"
WHERE id = %(id)s;

-- name: upsert
-- Insert, or adopt the row that already has this key (hand-made, or left by an older
-- initializer) by updating it in place, keeping its id.
INSERT INTO "InfrastructureLimit" AS l (
    service, "metricType", plan, "limitValue", unit, "warningThreshold", "criticalThreshold",
    "includedAmount", "overageUnitPrice", "isHardLimit", "sourceUrl", "sourceDate", "updatedBy"
) VALUES (
    %(service)s, %(metricType)s, %(plan)s, %(limitValue)s, %(unit)s, %(warningThreshold)s,
    %(criticalThreshold)s, %(includedAmount)s, %(overageUnitPrice)s, %(isHardLimit)s,
    %(sourceUrl)s, %(sourceDate)s, %(updatedBy)s
)
ON CONFLICT (service, "metricType", plan) DO UPDATE SET
    "limitValue" = excluded."limitValue",
    unit = excluded.unit,
    "warningThreshold" = excluded."warningThreshold",
    "criticalThreshold" = excluded."criticalThreshold",
    "includedAmount" = excluded."includedAmount",
    "overageUnitPrice" = excluded."overageUnitPrice",
    "isHardLimit" = excluded."isHardLimit",
    "sourceUrl" = excluded."sourceUrl",
    "sourceDate" = excluded."sourceDate",
    "updatedBy" = excluded."updatedBy",
    "updatedAt" = timezone('UTC', now())
RETURNING id, (xmax <> 0) AS adopted;

-- name: update
UPDATE "InfrastructureLimit" SET
    "limitValue" = %(limitValue)s,
    unit = %(unit)s,
    "warningThreshold" = %(warningThreshold)s,
    "criticalThreshold" = %(criticalThreshold)s,
    "includedAmount" = %(includedAmount)s,
    "overageUnitPrice" = %(overageUnitPrice)s,
    "isHardLimit" = %(isHardLimit)s,
    "sourceUrl" = %(sourceUrl)s,
    "sourceDate" = %(sourceDate)s,
    "updatedBy" = %(updatedBy)s,
    "updatedAt" = timezone('UTC', now())
WHERE id = %(id)s
RETURNING id;

-- name: delete
DELETE FROM "InfrastructureLimit" WHERE id = %(id)s;

-- name: unmanaged
-- Rows whose key is not among the given keys (three arrays, one entry per key).
SELECT service::text AS service, "metricType"::text AS "metricType", plan
FROM "InfrastructureLimit"
WHERE (service::text, "metricType"::text, plan) NOT IN (
    SELECT * FROM unnest(%(services)s::text[], %(metrics)s::text[], %(plans)s::text[])
)
ORDER BY 1, 2, 3;

-- name: prune
DELETE FROM "InfrastructureLimit"
WHERE (service::text, "metricType"::text, plan) NOT IN (
    SELECT * FROM unnest(%(services)s::text[], %(metrics)s::text[], %(plans)s::text[])
)
RETURNING service::text AS service, "metricType"::text AS "metricType", plan;

-- name: table_exists
SELECT to_regclass('"InfrastructureLimit"') IS NOT NULL AS present;
