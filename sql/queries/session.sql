-- What every job session reads when it starts (jobs.db.connect).

-- name: database_settings
-- The settings ALTER DATABASE … SET chose for this database (for every role: setrole 0),
-- as name=value; pg_db_role_setting is readable by every role.
SELECT unnest(setconfig) AS entry
FROM pg_db_role_setting
WHERE setrole = 0
  AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database());

-- name: apply_settings
-- The session settings the jobs rely on (jobs.db.SESSION_SETTINGS), names and values as
-- two arrays; set for the session (is_local false), so they outlive this statement.
SELECT set_config(name, value, false)
FROM unnest(%(names)s::text[], %(values)s::text[]) AS s(name, value);
