-- Deploy table "CollectionWatermark": where each collection source stands.
-- One row per source (a stream of the collection job, e.g. "vercel-billing", "neon:<id>").
-- "collectedThrough" is the exclusive end of the last complete window collected: the next
-- run resumes there. "lastSuccessAt"/"lastError" tell `status` how the source is doing.
-- Requires: nothing.
CREATE TABLE "CollectionWatermark" (
    "id"               TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "source"           TEXT NOT NULL,
    "collectedThrough" TIMESTAMP(3),
    "lastAttemptAt"    TIMESTAMP(3) NOT NULL,
    "lastSuccessAt"    TIMESTAMP(3),
    "lastError"        TEXT,
    "lastErrorAt"      TIMESTAMP(3),
    "lastRunId"        TEXT,
    "createdAt"        TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"        TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "CollectionWatermark_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "CollectionWatermark_source_check" CHECK ("source" <> '')
);

CREATE UNIQUE INDEX "CollectionWatermark_source_key" ON "CollectionWatermark" ("source");
