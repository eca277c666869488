-- Revert table "CollectionWatermark".
DROP TABLE "CollectionWatermark";
