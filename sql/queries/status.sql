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

-- name: role_defaults
-- Roles that may run merge_metrics (the jobs' role), but not its owner or superusers, with
-- session defaults for this database (their own or for every database), search_path aside.
SELECT r.rolname AS role,
       array(
           SELECT c FROM pg_db_role_setting AS d, unnest(d.setconfig) AS c
           WHERE d.setrole = r.oid
             AND d.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
             AND c NOT LIKE 'search_path=%%'
           ORDER BY c
       ) AS settings
FROM pg_roles AS r, pg_proc AS p
WHERE p.oid = to_regproc('merge_metrics')
  AND NOT r.rolsuper AND r.oid <> p.proowner
  AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
ORDER BY r.rolname;
