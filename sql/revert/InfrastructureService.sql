-- Revert enum "InfrastructureService".
DROP TYPE "InfrastructureService";
