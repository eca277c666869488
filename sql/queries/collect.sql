-- The collection job: staged bulk upserts, watermarks, run history.

-- name: create_stage
-- Rows of one source's transaction are COPied here first, then merged in one statement.
-- Created in that transaction and dropped at its end: behind a transaction pooler the next
-- transaction may run on another server connection, so nothing may outlive a transaction.
CREATE TEMP TABLE collect_stage (
    service      TEXT NOT NULL,
    "metricType" TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    unit         TEXT NOT NULL,
    "timestamp"  TIMESTAMP(3) NOT NULL,
    "windowEnd"  TIMESTAMP(3) NOT NULL,
    source       TEXT NOT NULL,
    project      TEXT NOT NULL,
    metadata     JSONB NOT NULL
) ON COMMIT DROP;

-- name: copy_stage
COPY collect_stage
    (service, "metricType", value, unit, "timestamp", "windowEnd", source, project, metadata)
FROM STDIN;

-- name: replace_overlaps
-- The same usage exported at another granularity (hourly, then daily) or aligned to another
-- time zone covers the same time with other windows: the newest data wins, and the rows it
-- overlaps (same series, another window) go, so nothing is counted twice.
WITH gone AS (
    DELETE FROM "InfrastructureMetric" AS m
    USING collect_stage AS s
    WHERE m.service = s.service::"InfrastructureService"
      AND m."metricType" = s."metricType"::"MetricType"
      AND m.source = s.source AND m.project = s.project
      AND m."timestamp" < s."windowEnd" AND m."windowEnd" > s."timestamp"
      AND m."timestamp" <> s."timestamp"
    RETURNING m.id
)
SELECT count(*) FROM gone;

-- name: merge_stage
-- Insert new windows, update changed ones, leave identical ones alone (so they are counted
-- as unchanged and keep their updatedAt). xmax = 0 marks a row this statement inserted.
WITH written AS (
    INSERT INTO "InfrastructureMetric" AS m
        (service, "metricType", value, unit, "timestamp", "windowEnd", source, project, metadata)
    SELECT service::"InfrastructureService", "metricType"::"MetricType", value, unit,
           "timestamp", "windowEnd", source, project, metadata
    FROM collect_stage
    ON CONFLICT (service, "metricType", source, project, "timestamp") DO UPDATE
    SET value = EXCLUDED.value,
        unit = EXCLUDED.unit,
        "windowEnd" = EXCLUDED."windowEnd",
        metadata = EXCLUDED.metadata,
        "updatedAt" = timezone('UTC', now())
    WHERE (m.value, m.unit, m."windowEnd", m.metadata)
          IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED."windowEnd", EXCLUDED.metadata)
    RETURNING (m.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS new,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM written;

-- name: missing_tables
-- Which of the tables the job needs do not exist on the search_path.
SELECT name FROM unnest(%(names)s::text[]) AS name
WHERE to_regclass(quote_ident(name)) IS NULL;

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
