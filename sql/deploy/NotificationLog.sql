-- Deploy table "NotificationLog": every notification `python -m jobs notify` decided to
-- send, one row per receiver and event, and how its delivery went.
-- "dedupKey" names the event: the alert's fingerprint, its new state and the row it
-- follows (its predecessor for this receiver and fingerprint), so a retried or
-- overlapping run computes the same key and the unique index keeps one row.
-- "messageKey" groups the rows sent together in one message (one per receiver and group
-- per run); it is fixed at the first attempt and sent as the idempotency key, so a retry
-- resends exactly the same message.
-- "status": pending (decided, not yet tried), sending (claimed until "leaseUntil"; a run
-- that crashed mid-send leaves it so, and the next run after the lease resends it), sent,
-- failed (will be retried), abandoned (gave up after the configured attempts).
-- "title"/"body" are the rendered text, scrubbed of secrets before they are stored.
-- Requires: nothing.
CREATE TABLE "NotificationLog" (
    "id"          TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "receiver"    TEXT NOT NULL,
    "groupKey"    TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "dedupKey"    TEXT NOT NULL,
    "kind"        TEXT NOT NULL,
    "severity"    TEXT NOT NULL,
    "state"       TEXT NOT NULL,
    "digest"      TEXT NOT NULL DEFAULT '',
    "resolved"    BOOLEAN NOT NULL DEFAULT false,
    "title"       TEXT NOT NULL,
    "body"        TEXT NOT NULL DEFAULT '',
    "labels"      JSONB NOT NULL DEFAULT '{}',
    "status"      TEXT NOT NULL DEFAULT 'pending',
    "messageKey"  TEXT,
    "attempts"    INTEGER NOT NULL DEFAULT 0,
    "leaseUntil"  TIMESTAMP(3),
    "lastError"   TEXT,
    "plannedAt"   TIMESTAMP(3) NOT NULL,
    "sentAt"      TIMESTAMP(3),
    "createdAt"   TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    "updatedAt"   TIMESTAMP(3) NOT NULL DEFAULT timezone('UTC', now()),
    CONSTRAINT "NotificationLog_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "NotificationLog_status_check"
        CHECK ("status" IN ('pending', 'sending', 'sent', 'failed', 'abandoned')),
    CONSTRAINT "NotificationLog_attempts_check" CHECK ("attempts" >= 0),
    CONSTRAINT "NotificationLog_labels_check" CHECK (jsonb_typeof("labels") = 'object')
);

-- One row per event and receiver, whatever runs compute it.
CREATE UNIQUE INDEX "NotificationLog_receiver_dedupKey_key"
    ON "NotificationLog" ("receiver", "dedupKey");

-- The latest notification of each alert (what was last said about it).
CREATE INDEX "NotificationLog_receiver_fingerprint_plannedAt_idx"
    ON "NotificationLog" ("receiver", "fingerprint", "plannedAt");

-- What is still to deliver.
CREATE INDEX "NotificationLog_status_idx" ON "NotificationLog" ("status");
