-- Reads of `python -m jobs status` (besides the schema, limits and assessment reads it shares).

-- name: sources
-- Where each collection source stands: its last success, last error and watermark, as of
-- as_of. A watermark keeps only its latest values: those written after as_of were not
-- known then (NULL), and a source never attempted by as_of is left out.
SELECT source,
       CASE WHEN "lastSuccessAt" <= %(as_of)s THEN "collectedThrough" END AS collected_through,
       greatest(CASE WHEN "lastAttemptAt" <= %(as_of)s THEN "lastAttemptAt" END,
                CASE WHEN "lastSuccessAt" <= %(as_of)s THEN "lastSuccessAt" END,
                CASE WHEN "lastErrorAt" <= %(as_of)s THEN "lastErrorAt" END) AS last_attempt_at,
       CASE WHEN "lastSuccessAt" <= %(as_of)s THEN "lastSuccessAt" END AS last_success_at,
       CASE WHEN "lastErrorAt" <= %(as_of)s THEN "lastError" END AS last_error,
       CASE WHEN "lastErrorAt" <= %(as_of)s THEN "lastErrorAt" END AS last_error_at,
       CASE WHEN "lastAttemptAt" <= %(as_of)s THEN "lastNote" END AS last_note
FROM "CollectionWatermark"
WHERE "lastAttemptAt" <= %(as_of)s OR "lastSuccessAt" <= %(as_of)s
    OR "lastErrorAt" <= %(as_of)s
ORDER BY source;

-- name: last_run
SELECT "startedAt" AS started_at, "finishedAt" AS finished_at, status, trigger,
       "rowsWritten" AS rows_written
FROM "CollectionRun"
WHERE "finishedAt" <= %(as_of)s
ORDER BY "startedAt" DESC
LIMIT 1;
