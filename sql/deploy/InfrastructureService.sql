-- Deploy enum "InfrastructureService": every service we collect usage for.
-- VERCEL_POSTGRES is served by Neon and VERCEL_KV by Upstash; VERCEL_OTHER holds the cost
-- of Vercel meters that have no limit and no service of their own ("other Vercel usage").
-- Requires: nothing.
CREATE TYPE "InfrastructureService" AS ENUM (
    'VERCEL_KV',
    'VERCEL_POSTGRES',
    'VERCEL_BLOB',
    'VERCEL_BUILD',
    'VERCEL_FUNCTIONS',
    'VERCEL_EDGE_REQUESTS',
    'VERCEL_BANDWIDTH',
    'VERCEL_EDGE_CONFIG',
    'VERCEL_IMAGE_OPTIMIZATION',
    'VERCEL_ORIGIN_TRANSFER',
    'VERCEL_WEB_ANALYTICS',
    -- Added later, in place (ALTER TYPE ... ADD VALUE): ISR durable-cache reads and
    -- writes, and the cost of every Vercel meter without a service of its own.
    'VERCEL_ISR',
    'VERCEL_OTHER'
);
