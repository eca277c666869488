-- The collection job: bulk upserts (through merge_metrics), watermarks, run history.

-- name: merge_metrics
-- One source's rows, one array per column and the metadata as one JSON array
-- (sql/deploy/merge_metrics.sql), sent in binary (the b placeholders): PostgreSQL reads
-- numbers and times without parsing text.
SELECT new_rows, updated_rows, replaced_rows
FROM merge_metrics(
    %(services)b::text[], %(metric_types)b::text[], %(values)b::double precision[],
    %(units)b::text[], %(starts)b::timestamp[], %(ends)b::timestamp[], %(sources)b::text[],
    %(projects)b::text[], %(metadata)b::jsonb
);

-- name: missing_tables
-- Which of the tables the job needs do not exist on the search_path.
SELECT name FROM unnest(%(names)s::text[]) AS name
WHERE to_regclass(quote_ident(name)) IS NULL;

-- name: missing_functions
-- Which of the functions the job calls do not exist (exactly once) on the search_path.
SELECT name FROM unnest(%(names)s::text[]) AS name
WHERE to_regproc(quote_ident(name)) IS NULL;

-- name: try_lock
-- Transaction-scoped: held until the lock's own transaction ends (store.run_lock).
SELECT pg_try_advisory_xact_lock(hashtext(%(key)s)) AS locked;

-- name: lock
SELECT pg_advisory_xact_lock(hashtext(%(key)s));

-- name: watermarks
SELECT source, "collectedThrough" FROM "CollectionWatermark";

-- name: record_success
-- The watermark never moves back: a re-collected window cannot undo a later one; a NULL
-- "through" (nothing new was published) leaves it where it is.
INSERT INTO "CollectionWatermark" AS w
    (source, "collectedThrough", "lastAttemptAt", "lastSuccessAt", "lastRunId", "lastNote")
VALUES (%(source)s, %(through)s, %(at)s, %(at)s, %(run_id)s, %(note)s)
ON CONFLICT (source) DO UPDATE
SET "collectedThrough" = GREATEST(w."collectedThrough", EXCLUDED."collectedThrough"),
    "lastAttemptAt" = EXCLUDED."lastAttemptAt",
    "lastSuccessAt" = EXCLUDED."lastSuccessAt",
    "lastRunId" = EXCLUDED."lastRunId",
    "lastNote" = EXCLUDED."lastNote",
    "updatedAt" = timezone('UTC', now());

-- name: record_failure
INSERT INTO "CollectionWatermark" AS w
    (source, "lastAttemptAt", "lastError", "lastErrorAt", "lastRunId")
VALUES (%(source)s, %(at)s, %(error)s, %(at)s, %(run_id)s)
ON CONFLICT (source) DO UPDATE
SET "lastAttemptAt" = EXCLUDED."lastAttemptAt",
    "lastError" = EXCLUDED."lastError",
    "lastErrorAt" = EXCLUDED."lastErrorAt",
    "lastRunId" = EXCLUDED."lastRunId",
    "updatedAt" = timezone('UTC', now());

-- name: record_run
INSERT INTO "CollectionRun"
    (id, "startedAt", "finishedAt", status, "trigger", "rowsWritten", sources)
VALUES (%(id)s, %(started)s, %(finished)s, %(status)s, %(trigger)s, %(rows_written)s, %(sources)s);

-- name: upsert_purchase
-- A FOCUS purchase line (the plan paid for); the same line imported again updates in place.
INSERT INTO "PlanPurchase" (
    provider, "serviceName", "periodStart", "periodEnd", "billedCost", "effectiveCost", source
) VALUES (
    %(provider)s, %(service_name)s, %(start)s, %(end)s, %(billed)s, %(effective)s, %(source)s
)
ON CONFLICT (provider, "serviceName", "periodStart") DO UPDATE SET
    "periodEnd" = EXCLUDED."periodEnd", "billedCost" = EXCLUDED."billedCost",
    "effectiveCost" = EXCLUDED."effectiveCost", source = EXCLUDED.source,
    "updatedAt" = timezone('UTC', now());
