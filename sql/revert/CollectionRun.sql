-- Revert table "CollectionRun".
DROP TABLE "CollectionRun";
