"""The one table from Vercel billing meters (FOCUS ``ServiceName``) to our enums.

Vercel does not publish the exact ``ServiceName`` strings of ``/v1/billing/charges``; the
names below follow its pricing pages (vercel.com/pricing, /docs/limits, 2026) and the
usage dashboard. A name not listed here, or a ``ConsumedUnit`` that does not fit the
metric, is counted as unmapped and shown in the run summary: add it here when it appears.

``metric_type`` None means "cost only": the meter's cost is recorded (COST_USD of the
service), its usage comes from another source and would be counted twice (build minutes
come from ``vercel-deployments``; Neon and Upstash usage from their own APIs).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.model import METRIC_TYPES, SERVICES


@dataclass(frozen=True)
class Meter:
    service_name: str
    service: str
    metric_type: str | None


VERCEL_METERS: tuple[Meter, ...] = (
    Meter("Fast Data Transfer", "VERCEL_BANDWIDTH", "BANDWIDTH_GB"),
    Meter("Fast Origin Transfer", "VERCEL_ORIGIN_TRANSFER", "BANDWIDTH_GB"),
    Meter("Edge Requests", "VERCEL_EDGE_REQUESTS", "REQUESTS"),
    Meter("Function Invocations", "VERCEL_FUNCTIONS", "INVOCATIONS"),
    Meter("Fluid Active CPU", "VERCEL_FUNCTIONS", "CPU_HOURS"),
    Meter("Active CPU", "VERCEL_FUNCTIONS", "CPU_HOURS"),
    Meter("Fluid Provisioned Memory", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS"),
    Meter("Provisioned Memory", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS"),
    Meter("Function Duration", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS"),
    Meter("Build Minutes", "VERCEL_BUILD", None),
    Meter("Build CPU Minutes", "VERCEL_BUILD", None),
    Meter("Image Transformations", "VERCEL_IMAGE_OPTIMIZATION", "OPERATIONS"),
    Meter("Image Optimization Transformations", "VERCEL_IMAGE_OPTIMIZATION", "OPERATIONS"),
    Meter("Blob Storage", "VERCEL_BLOB", "STORAGE_MB"),
    Meter("Blob Simple Operations", "VERCEL_BLOB", "READ_OPERATIONS"),
    Meter("Blob Advanced Operations", "VERCEL_BLOB", "WRITE_OPERATIONS"),
    Meter("Blob Data Transfer", "VERCEL_BLOB", "BANDWIDTH_GB"),
    Meter("Edge Config Reads", "VERCEL_EDGE_CONFIG", "READ_OPERATIONS"),
    Meter("Edge Config Writes", "VERCEL_EDGE_CONFIG", "WRITE_OPERATIONS"),
    Meter("Web Analytics Events", "VERCEL_WEB_ANALYTICS", "EVENTS"),
    # Marketplace storage billed through Vercel (unconfirmed whether these appear).
    Meter("Neon", "VERCEL_POSTGRES", None),
    Meter("Neon Postgres", "VERCEL_POSTGRES", None),
    Meter("Upstash", "VERCEL_KV", None),
    Meter("Upstash for Redis", "VERCEL_KV", None),
)

# Provider spellings of units that our unit table (jobs.model.UNITS) knows by another name.
UNIT_ALIASES: dict[str, str] = {
    "gb-hrs": "GB-hours",
    "gb-hours": "GB-hours",
    "gb hours": "GB-hours",
    "cpu hours": "CPU-hours",
    "cpu-hours": "CPU-hours",
    "gb-months": "GB-month",
    "gb-mo": "GB-month",
    "gigabytes": "GB",
    "minutes": "minutes",
    "cpu minutes": "minutes",
    "cpu-minutes": "minutes",
}

_BY_NAME = {m.service_name.casefold(): m for m in VERCEL_METERS}


def find_meter(service_name: str) -> Meter | None:
    return _BY_NAME.get(service_name.strip().casefold())


def our_unit(unit: str) -> str:
    return UNIT_ALIASES.get(unit.strip().casefold(), unit.strip())


def _check() -> None:
    for meter in VERCEL_METERS:
        if meter.service not in SERVICES or (
            meter.metric_type is not None and meter.metric_type not in METRIC_TYPES
        ):
            raise ValueError(f"vercel_services: {meter} names an unknown enum value")
    if len(_BY_NAME) != len(VERCEL_METERS):
        raise ValueError("vercel_services: a ServiceName is listed twice")


_check()
