-- Revert table "NotificationLog".
DROP TABLE "NotificationLog";
