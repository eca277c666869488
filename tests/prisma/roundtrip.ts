// The portal's side of the round trip: Prisma Client 7 with the pg driver adapter, on the
// models generated from sql/ (prisma/infrastructure.prisma). Driven by
// tests/test_prisma_client.py, which migrates the database with the project's own code and
// compares every value with what Python reads and writes.
//
//   tsx roundtrip.ts write   create, read, update and delete rows of every model through
//                            Prisma; print the rows left and the ids deleted, as JSON
//   tsx roundtrip.ts read    print every row of every model as Prisma reads it, as JSON
//   tsx roundtrip.ts config  print the external tables and enums of ./prisma.config.ts
//
// DATABASE_URL names the database. Output is one JSON document on stdout (Dates as ISO 8601).
import { PrismaPg } from "@prisma/adapter-pg";

import {
  InfrastructureService,
  MetricType,
  Prisma,
  PrismaClient,
  RecommendationPriority,
  RecommendationStatus,
} from "./generated/client.ts";

const HOUR = 3_600_000;
const NOVEMBER = Date.UTC(2026, 10, 1);
// Doubles that only survive a round trip bit for bit: binary fractions, the smallest and
// largest magnitudes, a sum that is not its decimal spelling.
const DOUBLES = [0, 0.1, 0.1 + 0.2, 1e-9, 123456789.125, 5e300, 42, 2 ** 52 + 1];
// jsonb keeps JSON numbers as decimals: 5e300 comes back as 5 followed by 300 zeros, which
// Python reads as an exact integer, not the double (docs/prisma.md). JSON gets the others.
const JSON_NUMBERS = DOUBLES.filter((x) => Math.abs(x) < 1e21);
const TEXT = "Zürich — 東京 🚀 'single' \"double\" back\\slash\nnew line\ttab";

const services = Object.values(InfrastructureService);
const metricTypes = Object.values(MetricType);
const priorities = Object.values(RecommendationPriority);
const statuses = Object.values(RecommendationStatus);

function connectionString(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set");
  }
  return url;
}

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: connectionString() }) });

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(`round trip: ${what}`);
  }
}

function json(i: number): Prisma.InputJsonObject {
  return {
    text: TEXT,
    number: JSON_NUMBERS[i % JSON_NUMBERS.length],
    negative: -1.5,
    flags: [true, false, null],
    nested: { list: [1, 2.5, "x", { deep: [] }], empty: {} },
    i,
  };
}

async function writeMetrics(): Promise<string> {
  // One row per service and per metric type, so every value of both enums is written.
  const count = Math.max(services.length, metricTypes.length);
  for (let i = 0; i < count; i++) {
    const timestamp = new Date(NOVEMBER + i * HOUR + 123);
    const created = await prisma.infrastructureMetric.create({
      data: {
        service: services[i % services.length],
        metricType: metricTypes[i % metricTypes.length],
        value: DOUBLES[i % DOUBLES.length],
        unit: `unit-${i}`,
        timestamp,
        windowEnd: new Date(timestamp.getTime() + HOUR),
        source: `prisma:${i}`,
        // Every other row leaves metadata to the database default.
        ...(i % 2 ? { metadata: json(i) } : {}),
      },
    });
    const byKey = await prisma.infrastructureMetric.findUnique({
      where: {
        service_metricType_source_project_timestamp: {
          service: created.service,
          metricType: created.metricType,
          source: created.source,
          project: created.project,
          timestamp,
        },
      },
    });
    check(byKey?.id === created.id, `metric ${i} not found by its natural key`);
    if (i % 3 === 0) {
      await prisma.infrastructureMetric.update({
        where: { id: created.id },
        data: { value: DOUBLES[(i + 1) % DOUBLES.length], unit: `updated-${i}`, metadata: json(i + 100) },
      });
    }
  }
  const storage = await prisma.infrastructureMetric.findMany({
    where: { metricType: MetricType.STORAGE_MB },
  });
  check(storage.length === 1, `expected one STORAGE_MB metric, found ${storage.length}`);
  return deleteOne(prisma.infrastructureMetric, {
    service: services[0],
    metricType: metricTypes[0],
    value: 1,
    unit: "unit",
    timestamp: new Date(NOVEMBER),
    windowEnd: new Date(NOVEMBER + HOUR),
    source: "prisma:deleted",
  });
}

// CHECK constraints are not in the Prisma schema either; the database refuses Prisma's
// writes that break them. Returns the constraint named in the error.
async function breakCheckConstraint(): Promise<string> {
  try {
    await prisma.infrastructureMetric.create({
      data: {
        service: services[0],
        metricType: metricTypes[0],
        value: -1,
        unit: "unit",
        timestamp: new Date(NOVEMBER),
        windowEnd: new Date(NOVEMBER + HOUR),
        source: "prisma:negative",
      },
    });
  } catch (error) {
    return String(error).match(/violates check constraint "(\w+)"/)?.[1] ?? String(error);
  }
  return "accepted";
}

async function writeLimits(): Promise<string> {
  const count = Math.max(services.length, metricTypes.length);
  for (let i = 0; i < count; i++) {
    const created = await prisma.infrastructureLimit.create({
      data: {
        service: services[i % services.length],
        metricType: metricTypes[i % metricTypes.length],
        plan: i % 2 ? "pro" : "hobby",
        limitValue: DOUBLES[(i % (DOUBLES.length - 1)) + 1],
        unit: `unit-${i}`,
        // Even rows leave thresholds, amounts, prices and flags to the database defaults.
        ...(i % 2
          ? {
              warningThreshold: 0.5,
              criticalThreshold: 0.95,
              includedAmount: DOUBLES[i % DOUBLES.length],
              overageUnitPrice: 0.0106,
              isHardLimit: true,
              sourceUrl: `https://vercel.com/docs/limits#${i}`,
              sourceDate: new Date(Date.UTC(2026, 10, 25)),
              updatedBy: TEXT,
            }
          : {}),
      },
    });
    const found = await prisma.infrastructureLimit.findUnique({
      where: {
        service_metricType_plan: {
          service: created.service,
          metricType: created.metricType,
          plan: created.plan,
        },
      },
    });
    check(found?.id === created.id, `limit ${i} not found by its natural key`);
    if (i % 3 === 0) {
      await prisma.infrastructureLimit.update({
        where: { id: created.id },
        data: { limitValue: 1000, isHardLimit: !created.isHardLimit, updatedBy: "portal" },
      });
    }
  }
  return deleteOne(prisma.infrastructureLimit, {
    service: services[0],
    metricType: metricTypes[0],
    plan: "deleted",
    limitValue: 1,
    unit: "unit",
  });
}

async function writeRecommendations(): Promise<{ deleted: string; duplicateOpen: string }> {
  // One row per status; priorities cycle, so each of them appears too.
  const count = Math.max(statuses.length, priorities.length);
  for (let i = 0; i < count; i++) {
    const full = i % 2 === 1;
    const created = await prisma.upgradeRecommendation.create({
      data: {
        service: services[i % services.length],
        currentPlan: "hobby",
        recommendedPlan: `pro-${i}`,
        priority: priorities[i % priorities.length],
        status: statuses[i % statuses.length],
        title: `Upgrade ${i}: ${TEXT}`,
        reasoning: TEXT,
        currentUsage: { [MetricType.STORAGE_MB]: 812.5, [MetricType.REQUESTS]: 1e6 + i },
        projectedUsage: { [MetricType.STORAGE_MB]: 1024.25 },
        currentMonthlyCost: DOUBLES[i % DOUBLES.length],
        projectedMonthlyCost: 41.2,
        upgradedMonthlyCost: 20,
        overageAvoided: 21.2,
        revenueAtRisk: 1500.75,
        confidence: 0.8,
        evidence: json(i),
        reviewHistory: [
          { at: "2026-11-25T10:00:00.000Z", by: "jobs", from: null, to: "PENDING", note: TEXT },
        ],
        ...(full
          ? {
              account: `team-${i}`,
              projectedBreachAt: new Date(NOVEMBER + 20 * 24 * HOUR + 999),
              roi: -0.25,
              paybackDays: 12.5,
              reviewedBy: "alice@example.com",
              reviewedAt: new Date(NOVEMBER + 24 * HOUR),
              expiresAt: new Date(NOVEMBER + 30 * 24 * HOUR),
              lastSeenAt: new Date(NOVEMBER + 25 * 24 * HOUR + 7),
            }
          : {}),
      },
    });
    const found = await prisma.upgradeRecommendation.findUnique({ where: { id: created.id } });
    check(found?.status === created.status, `recommendation ${i} not read back`);
  }
  // A portal review: status, reviewer and an appended history entry.
  const pending = await prisma.upgradeRecommendation.findFirstOrThrow({
    where: { status: RecommendationStatus.PENDING },
  });
  // The database has no trigger for updatedAt: @updatedAt makes the client set it. Wait past
  // the millisecond it was last set, so a missing @updatedAt shows as an unchanged value.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const reviewed = await prisma.upgradeRecommendation.update({
    where: { id: pending.id },
    data: {
      status: RecommendationStatus.APPROVED,
      reviewedBy: "bob",
      reviewedAt: new Date(NOVEMBER + 2 * 24 * HOUR),
      reviewHistory: [
        ...(pending.reviewHistory as Prisma.InputJsonArray),
        { at: "2026-11-26T09:30:00.000Z", by: "bob", from: "PENDING", to: "APPROVED", note: "ok" },
      ],
    },
  });
  check(reviewed.updatedAt > pending.updatedAt, "updatedAt did not move on update");
  // Defaults: priority MEDIUM, status PENDING, money 0, JSON {} and [].
  await prisma.upgradeRecommendation.create({
    data: {
      service: InfrastructureService.VERCEL_BLOB,
      currentPlan: "hobby",
      recommendedPlan: "defaults",
      title: "defaults",
      reasoning: "defaults",
    },
  });
  // The partial unique index (one open recommendation per service and plan) is not in the
  // Prisma schema, but the database enforces it on Prisma's writes too.
  let duplicateOpen = "accepted";
  try {
    await prisma.upgradeRecommendation.create({
      data: {
        service: InfrastructureService.VERCEL_BLOB,
        currentPlan: "hobby",
        recommendedPlan: "defaults",
        title: "duplicate",
        reasoning: "duplicate",
      },
    });
  } catch (error) {
    duplicateOpen =
      error instanceof Prisma.PrismaClientKnownRequestError ? error.code : String(error);
  }
  const deleted = await deleteOne(prisma.upgradeRecommendation, {
    service: services[0],
    currentPlan: "hobby",
    recommendedPlan: "deleted",
    title: "deleted",
    reasoning: "deleted",
  });
  return { deleted, duplicateOpen };
}

interface Deletable<Data> {
  create(args: { data: Data }): Promise<{ id: string }>;
  delete(args: { where: { id: string } }): Promise<{ id: string }>;
  findUnique(args: { where: { id: string } }): Promise<{ id: string } | null>;
}

async function deleteOne<Data>(model: Deletable<Data>, data: Data): Promise<string> {
  const { id } = await model.create({ data });
  await model.delete({ where: { id } });
  check((await model.findUnique({ where: { id } })) === null, `row ${id} still there after delete`);
  return id;
}

async function everything() {
  return {
    metrics: await prisma.infrastructureMetric.findMany({ orderBy: { id: "asc" } }),
    limits: await prisma.infrastructureLimit.findMany({ orderBy: { id: "asc" } }),
    recommendations: await prisma.upgradeRecommendation.findMany({ orderBy: { id: "asc" } }),
  };
}

async function main(command: string | undefined): Promise<unknown> {
  switch (command) {
    case "write": {
      const metric = await writeMetrics();
      const limit = await writeLimits();
      const { deleted, duplicateOpen } = await writeRecommendations();
      const checkViolation = await breakCheckConstraint();
      return {
        ...(await everything()),
        deleted: { metric, limit, recommendation: deleted },
        duplicateOpen,
        checkViolation,
      };
    }
    case "read":
      return everything();
    case "config": {
      const { default: config } = await import("./prisma.config.ts");
      return { experimental: config.experimental, tables: config.tables, enums: config.enums };
    }
    default:
      throw new Error(`usage: tsx roundtrip.ts write|read|config (got ${command})`);
  }
}

try {
  process.stdout.write(`${JSON.stringify(await main(process.argv[2]))}\n`);
} finally {
  await prisma.$disconnect();
}
