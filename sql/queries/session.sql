-- What every job session reads when it starts (jobs.db.connect).

-- name: database_settings
-- The settings ALTER DATABASE … SET chose for this database (for every role: setrole 0),
-- as name=value; pg_db_role_setting is readable by every role.
SELECT unnest(setconfig) AS entry
FROM pg_db_role_setting
WHERE setrole = 0
  AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database());
