-- Deploy function merge_metrics: the one way the jobs write "InfrastructureMetric".
-- One row per array index: the arrays are its columns, sent as parameters, and element i
-- of the JSON array p_metadata is row i's metadata (no temporary table, so the jobs role
-- needs no TEMPORARY). In one call it
--   1. deletes the rows the given windows overlap in the same series (service, metric
--      type, source, project) with another start: the same usage exported at another
--      granularity or aligned to another time zone, so nothing is counted twice;
--   2. inserts new windows and updates changed ones; identical rows are left alone (they
--      keep their "updatedAt" and count as unchanged).
-- It returns how many rows were new, updated and replaced.
-- SECURITY DEFINER: it runs as its owner, so the jobs role gets EXECUTE on it instead of
-- INSERT, UPDATE and DELETE on the table (and with them the right to LOCK the table in
-- any mode); it can only write rows, never delete one without writing what replaces it.
-- Its search_path is the schema it is created in, then pg_temp, fixed at creation.
-- Requires: InfrastructureService, MetricType, InfrastructureMetric.
CREATE OR REPLACE FUNCTION merge_metrics(
    p_services     text[],
    p_metric_types text[],
    p_values       double precision[],
    p_units        text[],
    p_starts       timestamp without time zone[],
    p_ends         timestamp without time zone[],
    p_sources      text[],
    p_projects     text[],
    p_metadata     jsonb
) RETURNS TABLE (new_rows bigint, updated_rows bigint, replaced_rows bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
BEGIN
    IF jsonb_typeof(p_metadata) IS DISTINCT FROM 'array' OR (
        SELECT count(DISTINCT coalesce(n, 0)) FROM unnest(ARRAY[
            cardinality(p_services), cardinality(p_metric_types), cardinality(p_values),
            cardinality(p_units), cardinality(p_starts), cardinality(p_ends),
            cardinality(p_sources), cardinality(p_projects), jsonb_array_length(p_metadata)
        ]) AS n
    ) > 1 THEN
        RAISE EXCEPTION 'merge_metrics: the column arrays differ in length (or the metadata is no array)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Per new window, two bounded probes of the natural-key index (so the cost grows with
    -- the rows replaced, not with the series' length): the stored windows that start
    -- inside it, and the one that starts last before it if it reaches into it. Stored
    -- windows of a series never overlap each other (this function keeps it so, and collect
    -- refuses a batch whose own windows overlap), so no other row can.
    WITH stage AS (
        SELECT s.service::"InfrastructureService" AS service,
               s.metric_type::"MetricType" AS metric_type, s.starts, s.ends, s.source, s.project
        FROM unnest(p_services, p_metric_types, p_starts, p_ends, p_sources, p_projects)
            AS s(service, metric_type, starts, ends, source, project)
    ), gone AS (
        DELETE FROM "InfrastructureMetric" AS m
        WHERE m.id IN (
            SELECT o.id
            FROM stage AS s
            CROSS JOIN LATERAL (
                SELECT i.id FROM "InfrastructureMetric" AS i
                WHERE i.service = s.service AND i."metricType" = s.metric_type
                  AND i.source = s.source AND i.project = s.project
                  AND i."timestamp" > s.starts AND i."timestamp" < s.ends
                UNION ALL
                -- The row comparison and order match only the natural-key index: one
                -- backward step from the new window's key, whatever the other series hold.
                SELECT b.id FROM (
                    SELECT i.id, i.service, i."metricType", i.source, i.project, i."windowEnd"
                    FROM "InfrastructureMetric" AS i
                    WHERE (i.service, i."metricType", i.source, i.project, i."timestamp")
                          < (s.service, s.metric_type, s.source, s.project, s.starts)
                    ORDER BY i.service DESC, i."metricType" DESC, i.source DESC,
                             i.project DESC, i."timestamp" DESC
                    LIMIT 1
                ) AS b
                WHERE b.service = s.service AND b."metricType" = s.metric_type
                  AND b.source = s.source AND b.project = s.project
                  AND b."windowEnd" > s.starts
            ) AS o
        )
        RETURNING m.id
    )
    SELECT count(*) INTO replaced_rows FROM gone;

    -- xmax = 0 marks a row this statement inserted (not one it updated).
    WITH written AS (
        INSERT INTO "InfrastructureMetric" AS m
            (service, "metricType", value, unit, "timestamp", "windowEnd", source, project,
             metadata)
        SELECT s.service::"InfrastructureService", s.metric_type::"MetricType", s.value,
               s.unit, s.starts, s.ends, s.source, s.project, p_metadata -> (s.n - 1)::int
        FROM unnest(p_services, p_metric_types, p_values, p_units, p_starts, p_ends,
                    p_sources, p_projects)
            WITH ORDINALITY
            AS s(service, metric_type, value, unit, starts, ends, source, project, n)
        ON CONFLICT (service, "metricType", source, project, "timestamp") DO UPDATE
        SET value = EXCLUDED.value,
            unit = EXCLUDED.unit,
            "windowEnd" = EXCLUDED."windowEnd",
            metadata = EXCLUDED.metadata,
            "updatedAt" = timezone('UTC', now())
        WHERE (m.value, m.unit, m."windowEnd", m.metadata)
              IS DISTINCT FROM
              (EXCLUDED.value, EXCLUDED.unit, EXCLUDED."windowEnd", EXCLUDED.metadata)
        RETURNING (m.xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
    INTO new_rows, updated_rows
    FROM written;

    RETURN NEXT;
END
$$;

-- Functions are executable by PUBLIC unless revoked; the jobs role is granted EXECUTE by
-- pulumi up (infra/roles.py). With its argument types: while a shape is computed, a
-- function of the same name but other arguments may be on the search_path too.
REVOKE ALL ON FUNCTION merge_metrics(
    text[], text[], double precision[], text[], timestamp[], timestamp[], text[], text[], jsonb
) FROM PUBLIC;
