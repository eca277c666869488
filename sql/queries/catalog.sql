-- Introspection of the objects we own, by name, in one schema.
-- Definitions are printed with search_path set by the caller, so names visible on it
-- (our enum types) come out unqualified and shapes compare across schemas.

-- name: find_relation
-- The table (or other relation) with this name in this schema.
SELECT c.oid, c.relkind::text AS relkind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s;

-- name: find_type
-- The type with this name in this schema; typtype 'e' is an enum.
SELECT t.oid, t.typtype::text AS typtype
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %(schema)s AND t.typname = %(name)s;

-- name: enum_labels
SELECT enumlabel FROM pg_enum WHERE enumtypid = %(oid)s ORDER BY enumsortorder;

-- name: table_columns
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attname;

-- name: table_constraints
-- NOT NULL constraints (contype 'n', PostgreSQL 18+) are compared through the columns.
SELECT conname AS name, contype::text AS kind, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = %(oid)s AND contype <> 'n'
ORDER BY conname;

-- name: table_indexes
-- Indexes that do not back a constraint; "definition" is what follows "ON <table>".
SELECT c.relname AS name,
       i.indisunique AS is_unique,
       btrim(substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$')) AS definition
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %(oid)s
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
ORDER BY c.relname;

-- name: type_dependents
-- Columns (in any schema) whose type is this enum or an array of it.
SELECT DISTINCT n.nspname AS schema, c.relname AS relation, a.attname AS column
FROM pg_type t
JOIN pg_attribute a ON a.atttypid IN (t.oid, t.typarray) AND NOT a.attisdropped AND a.attnum > 0
JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.oid = %(oid)s
ORDER BY 1, 2, 3;

-- name: schema_exists
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s);

-- name: find_functions
-- The functions (prokind 'f') with this name in this schema; more than one is an overload.
-- "config" leaves out search_path: the deploy files pin it to the schema they run in
-- (SET search_path FROM CURRENT), which differs between the scratch schema a shape is
-- computed in and the real one; "pins_search_path" says it is pinned.
SELECT p.oid,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       l.lanname AS language,
       p.provolatile::text AS volatility,
       p.prosecdef AS security_definer,
       p.proisstrict AS strict,
       p.prosrc AS body,
       array(SELECT c FROM unnest(p.proconfig) AS c
             WHERE c NOT LIKE 'search_path=%%' ORDER BY c) AS config,
       EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%%')
           AS pins_search_path
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = %(schema)s AND p.proname = %(name)s AND p.prokind = 'f'
ORDER BY p.oid;

-- name: function_triggers
-- The triggers (in any schema) that call this function, as CREATE TRIGGER statements.
SELECT t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
WHERE t.tgfoid = %(oid)s AND NOT t.tgisinternal
ORDER BY t.tgname;
