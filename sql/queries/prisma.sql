-- Introspection the Prisma schema generator needs beyond jobs.schema.catalog.

-- name: column_order
-- The columns of a table in physical order: the deploy file's order on a fresh build.
SELECT attname AS name
FROM pg_attribute
WHERE attrelid = %(oid)s AND attnum > 0 AND NOT attisdropped
ORDER BY attnum;
