-- Reads and writes of `python -m jobs notify` (the notification log).

-- name: lock
-- Planning is serialised: a second run plans only after the first committed its rows.
SELECT pg_advisory_xact_lock(hashtext(%(key)s));

-- name: last_said
-- The latest notification per receiver and fingerprint: what was last said about it.
SELECT DISTINCT ON (receiver, fingerprint)
       id, receiver, fingerprint, "groupKey" AS group, kind, severity, state, digest,
       resolved, title, "plannedAt" AS planned_at
FROM "NotificationLog"
ORDER BY receiver, fingerprint, "plannedAt" DESC, "createdAt" DESC, id DESC;

-- name: insert_planned
INSERT INTO "NotificationLog" (
    receiver, "groupKey", fingerprint, "dedupKey", kind, severity, state, digest, resolved,
    title, body, labels, "plannedAt"
) VALUES (
    %(receiver)s, %(group)s, %(fingerprint)s, %(dedup_key)s, %(kind)s, %(severity)s,
    %(state)s, %(digest)s, %(resolved)s, %(title)s, %(body)s, %(labels)s, %(now)s
)
ON CONFLICT (receiver, "dedupKey") DO NOTHING;

-- name: unassigned
-- Notifications not yet put into a message.
SELECT id, receiver, "groupKey" AS group, "dedupKey" AS dedup_key
FROM "NotificationLog"
WHERE "messageKey" IS NULL AND status = 'pending'
ORDER BY receiver, "groupKey", "plannedAt", "dedupKey";

-- name: assign_message
UPDATE "NotificationLog"
SET "messageKey" = %(message_key)s, "updatedAt" = timezone('UTC', now())
WHERE id = ANY(%(ids)s) AND "messageKey" IS NULL;

-- name: due_messages
-- Messages to deliver now: new, failed (after any wait the receiver asked for), or claimed
-- by a run whose lease ran out (it crashed or stopped mid-send).
SELECT "messageKey" AS message_key, receiver, min("plannedAt") AS first_planned
FROM "NotificationLog"
WHERE "messageKey" IS NOT NULL
  AND status IN ('pending', 'failed', 'sending')
  AND ("leaseUntil" IS NULL OR "leaseUntil" <= %(now)s)
GROUP BY "messageKey", receiver
ORDER BY first_planned, "messageKey";

-- name: claim
-- Take a message for this run until the lease ends; a concurrent claim waits for the row
-- locks, then finds the rows taken and returns nothing.
UPDATE "NotificationLog"
SET status = 'sending', attempts = attempts + 1, "leaseUntil" = %(lease_until)s,
    "updatedAt" = timezone('UTC', now())
WHERE "messageKey" = %(message_key)s
  AND status IN ('pending', 'failed', 'sending')
  AND ("leaseUntil" IS NULL OR "leaseUntil" <= %(now)s)
RETURNING id, receiver, "groupKey" AS group, fingerprint, "dedupKey" AS dedup_key, kind,
          severity, state, resolved, title, body, labels, attempts,
          "leaseUntil" AS lease_until;

-- name: finish
-- The outcome of this run's attempt; a run whose lease was taken over changes nothing.
UPDATE "NotificationLog"
SET status = %(status)s, "lastError" = %(error)s, "leaseUntil" = %(retry_at)s,
    "sentAt" = CASE WHEN %(status)s = 'sent' THEN %(now)s ELSE "sentAt" END,
    "updatedAt" = timezone('UTC', now())
WHERE "messageKey" = %(message_key)s AND status = 'sending' AND "leaseUntil" = %(lease_until)s;

-- name: recommendations_to_tell
-- Open recommendations, and those closed lately (their issue may still be open).
SELECT id FROM "UpgradeRecommendation"
WHERE status IN ('PENDING', 'REVIEWED', 'APPROVED') OR "updatedAt" >= %(since)s
ORDER BY "createdAt", id;

-- name: delivery_health
-- For `status`: messages sent, failing (to be retried) and given up since %(since)s.
SELECT "messageKey" AS message_key, receiver, min("groupKey") AS group, min(status) AS status,
       max(attempts) AS attempts, max("lastError") AS last_error, max("sentAt") AS sent_at
FROM "NotificationLog"
WHERE "messageKey" IS NOT NULL AND "updatedAt" >= %(since)s
  AND status IN ('sent', 'failed', 'abandoned')
GROUP BY "messageKey", receiver
ORDER BY receiver, min("groupKey");
