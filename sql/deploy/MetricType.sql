-- Deploy enum "MetricType": what a metric or limit measures.
-- READ_OPERATIONS / WRITE_OPERATIONS split meters that price reads and writes apart
-- (Blob simple and advanced operations, Edge Config reads and writes).
-- Requires: nothing.
CREATE TYPE "MetricType" AS ENUM (
    'STORAGE_MB',
    'BANDWIDTH_GB',
    'INVOCATIONS',
    'REQUESTS',
    'OPERATIONS',
    'BUILD_MINUTES',
    'CPU_HOURS',
    'MEMORY_GB_HOURS',
    'COMPUTE_HOURS',
    'LATENCY_MS',
    'COST_USD',
    'READ_OPERATIONS',
    'WRITE_OPERATIONS',
    'EVENTS',
    'BUILDS'
);
