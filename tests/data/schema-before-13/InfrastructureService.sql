-- Deploy enum "InfrastructureService": every service we collect usage for.
-- VERCEL_POSTGRES is served by Neon and VERCEL_KV by Upstash.
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
    'VERCEL_WEB_ANALYTICS'
);
