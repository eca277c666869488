// Example prisma.config.ts for the portal (Prisma 7). The monitoring schema's tables and enums
// belong to the Pulumi program of infra-monitoring, so Prisma Migrate must leave them alone:
// they are declared external here, and their models come from prisma/infrastructure.prisma,
// copied into the schema folder next to the portal's own models. See docs/prisma.md.
//
// Layout assumed:  prisma.config.ts
//                  prisma/schema/schema.prisma          datasource, generator, the portal's models
//                  prisma/schema/infrastructure.prisma  copied from infra-monitoring, never edited
//
// Prisma 7 does not load .env by itself: import "dotenv/config" first if DATABASE_URL lives there.
import { defineConfig, env } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema",
  datasource: { url: env("DATABASE_URL") },
  experimental: { externalTables: true },
  tables: {
    external: [
      "InfrastructureMetric",
      "InfrastructureLimit",
      "UpgradeRecommendation",
      "CollectionWatermark",
      "CollectionRun",
      "UsageAssessment",
      "NotificationLog",
      "PlanPurchase",
    ],
  },
  enums: {
    external: [
      "InfrastructureService",
      "MetricType",
      "RecommendationPriority",
      "RecommendationStatus",
    ],
  },
});
