-- Deploy table "CollectionRun": the history of `python -m jobs collect`, one row per run.
-- "status" is ok (every enabled source succeeded) or failed (at least one did not);
-- "sources" holds the run summary: one object per source with its windows, rows written,
-- rows unchanged, unmapped items and error.
-- Requires: nothing.
CREATE TABLE "CollectionRun" (
    "id"          TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "startedAt"   TIMESTAMP(3) NOT NULL,
    "finishedAt"  TIMESTAMP(3) NOT NULL,
    "status"      TEXT NOT NULL,
    "trigger"     TEXT NOT NULL DEFAULT 'api',
    "rowsWritten" INTEGER NOT NULL DEFAULT 0,
    "sources"     JSONB NOT NULL DEFAULT '[]',
    "createdAt"   TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "CollectionRun_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "CollectionRun_status_check" CHECK ("status" IN ('ok', 'failed')),
    CONSTRAINT "CollectionRun_trigger_check" CHECK ("trigger" IN ('api', 'file')),
    CONSTRAINT "CollectionRun_window_check" CHECK ("finishedAt" >= "startedAt"),
    CONSTRAINT "CollectionRun_sources_check" CHECK (jsonb_typeof("sources") = 'array')
);

-- "The latest runs" (status, history).
CREATE INDEX "CollectionRun_startedAt_idx" ON "CollectionRun" ("startedAt");
