-- Revert table "InfrastructureLimit".
DROP TABLE "InfrastructureLimit";
