-- Reads of `python -m jobs status` (besides the schema, limits and assessment reads it shares).

-- name: sources
-- Where each collection source stands: its last success, last error and watermark.
SELECT source, "collectedThrough" AS collected_through, "lastAttemptAt" AS last_attempt_at,
       "lastSuccessAt" AS last_success_at, "lastError" AS last_error,
       "lastErrorAt" AS last_error_at, "lastNote" AS last_note
FROM "CollectionWatermark"
ORDER BY source;

-- name: last_run
SELECT "startedAt" AS started_at, "finishedAt" AS finished_at, status, trigger,
       "rowsWritten" AS rows_written
FROM "CollectionRun"
ORDER BY "startedAt" DESC
LIMIT 1;
