"""The one table from Vercel billing meters (FOCUS ``ServiceName``) to our enums.

Every ``ServiceName`` seen in a real ``/v1/billing/charges`` answer (61 names, 2026-08,
REFERENCE.md section 3) is listed here, with the spellings Vercel used before a rename as
aliases. A meter is either

- *measured*: ``metric_type`` set, because a plan limit exists for it (limits.yaml); its
  ``ConsumedQuantity`` is stored in the metric's canonical unit, and its cost as COST_USD of
  the service; or
- *cost only*: ``metric_type`` None. Its cost is stored (COST_USD of its service), its
  quantity stays in the row's metadata. Either no limit exists for it, or its usage comes
  from another source and would be counted twice (build minutes come from
  ``vercel-deployments``; Neon and Upstash usage from their own APIs).

A name not listed is still stored, as cost of ``VERCEL_OTHER`` with the name in the
metadata, and counted in the run summary: nothing a provider bills is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.model import METRIC_TYPES, SERVICES, UnitMismatch, unit_factor

OTHER_SERVICE = "VERCEL_OTHER"  # "other Vercel usage": meters without a service of their own


@dataclass(frozen=True)
class Meter:
    service_name: str
    service: str
    metric_type: str | None  # None: cost only
    aliases: tuple[str, ...] = ()  # earlier spellings of the same meter


def _measured(name: str, service: str, metric: str, *aliases: str) -> Meter:
    return Meter(name, service, metric, aliases)


def _cost(name: str, service: str = OTHER_SERVICE, *aliases: str) -> Meter:
    return Meter(name, service, None, aliases)


VERCEL_METERS: tuple[Meter, ...] = (
    # Networking
    _measured("Fast Data Transfer", "VERCEL_BANDWIDTH", "BANDWIDTH_GB"),
    _measured("Fast Origin Transfer", "VERCEL_ORIGIN_TRANSFER", "BANDWIDTH_GB"),
    _measured("Edge Requests", "VERCEL_EDGE_REQUESTS", "REQUESTS"),
    # Requests of the Flat Rate CDN tier are requests all the same (docs/pricing/flat-rate-cdn).
    _measured("Edge Requests (Flat Rate)", "VERCEL_EDGE_REQUESTS", "REQUESTS"),
    _cost("Private Data Transfer", "VERCEL_BANDWIDTH"),
    _cost("Firewall Rate Limit Requests", "VERCEL_EDGE_REQUESTS"),
    _cost("BotID Deep Analysis Requests", "VERCEL_EDGE_REQUESTS"),
    # Functions
    _measured("Function Invocations", "VERCEL_FUNCTIONS", "INVOCATIONS"),
    _measured("Fluid Active CPU", "VERCEL_FUNCTIONS", "CPU_HOURS", "Active CPU"),
    _measured(
        "Fluid Provisioned Memory", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS", "Provisioned Memory"
    ),
    # Legacy (non-Fluid) functions bill their duration in GB-hours: the same memory limit.
    _measured("Function Duration", "VERCEL_FUNCTIONS", "MEMORY_GB_HOURS"),
    _cost("Edge Middleware Invocations", "VERCEL_FUNCTIONS"),
    _cost("Edge Function Execution Units", "VERCEL_FUNCTIONS"),
    _cost("Runtime Cache Reads", "VERCEL_FUNCTIONS"),
    _cost("Runtime Cache Writes", "VERCEL_FUNCTIONS"),
    _cost("Serverless Function Storage", "VERCEL_FUNCTIONS"),
    # Builds: minutes come from vercel-deployments.
    _cost("Build Minutes", "VERCEL_BUILD"),
    _cost("Build CPU Minutes", "VERCEL_BUILD"),
    _cost("Deployment Storage", "VERCEL_BUILD"),
    _cost("Snapshot Storage", "VERCEL_BUILD"),
    # Images
    _measured(
        "Image Optimization Transformation",
        "VERCEL_IMAGE_OPTIMIZATION",
        "OPERATIONS",
        "Image Optimization Transformations",
        "Image Transformations",
    ),
    _cost("Image Optimization Cache Reads", "VERCEL_IMAGE_OPTIMIZATION"),
    _cost("Image Optimization Cache Writes", "VERCEL_IMAGE_OPTIMIZATION"),
    # ISR (durable cache reads and writes)
    _measured("ISR Reads", "VERCEL_ISR", "READ_OPERATIONS"),
    _measured("ISR Writes", "VERCEL_ISR", "WRITE_OPERATIONS"),
    # Blob
    _measured("Blob Storage Size", "VERCEL_BLOB", "STORAGE_MB", "Blob Storage"),
    _measured("Blob Simple Operations", "VERCEL_BLOB", "READ_OPERATIONS"),
    _measured("Blob Advanced Operations", "VERCEL_BLOB", "WRITE_OPERATIONS"),
    _measured("Blob Data Transfer", "VERCEL_BLOB", "BANDWIDTH_GB"),
    # Edge Config, renamed Global Config in 2026
    _measured(
        "Global Config Reads (formerly known as Edge Config Reads)",
        "VERCEL_EDGE_CONFIG",
        "READ_OPERATIONS",
        "Edge Config Reads",
        "Global Config Reads",
    ),
    _measured(
        "Global Config Writes (formerly known as Edge Config Writes)",
        "VERCEL_EDGE_CONFIG",
        "WRITE_OPERATIONS",
        "Edge Config Writes",
        "Global Config Writes",
    ),
    # Analytics
    _measured("Web Analytics Events", "VERCEL_WEB_ANALYTICS", "EVENTS"),
    _cost("Speed Insights Data Points", "VERCEL_WEB_ANALYTICS"),
    # Products without a limit of ours: cost of "other Vercel usage".
    _cost("Observability Events"),
    _cost("Drains Volume"),
    _cost("Sandbox Active CPU"),
    _cost("Sandbox Provisioned Memory"),
    _cost("Sandbox Creations"),
    _cost("Sandbox Data Transfer"),
    _cost("Workflow Events"),
    _cost("Workflow Storage Writes"),
    _cost("Workflow Storage Retention"),
    _cost("Queue Message Sends"),
    _cost("Queue Message Receives"),
    _cost("Queue Message Deletes"),
    _cost("KMS Operations"),
    _cost("AI Gateway Traces"),
    _cost("Microfrontends Routing"),
    _cost("Service Requests"),
    _cost("Flag Requests"),
    _cost("Connect Token Requests"),
    # Subscriptions and add-ons (normally ChargeCategory Purchase; kept as cost if Usage).
    _cost("Pro"),
    _cost("Observability Plus"),
    _cost("Speed Insights"),
    _cost("Additional Team Seats"),
    # Marketplace storage billed through Vercel (unconfirmed whether these appear).
    _cost("Neon", "VERCEL_POSTGRES", "Neon Postgres"),
    _cost("Upstash", "VERCEL_KV", "Upstash for Redis"),
)

# Every ``ConsumedUnit`` spelling seen from Vercel, to the spelling of our unit table
# (jobs.model.UNITS); the measured meters convert from there to the canonical unit.
UNIT_ALIASES: dict[str, str] = {
    "gigabyte": "GB",
    "gigabytes": "GB",
    "gigabyte-hour": "GB-hours",
    "gigabyte-hours": "GB-hours",
    "gigabyte-month": "GB-month",
    "hour": "hours",
    "minute": "minutes",
    "requests": "requests",
    "invocations": "invocations",
    "reads": "reads",
    "writes": "writes",
    "operations": "operations",
    "units": "units",
    "events": "events",
    "data points": "data points",
    "traces": "traces",
    # Spellings of older exports.
    "gb-hrs": "GB-hours",
    "gb hours": "GB-hours",
    "cpu hours": "CPU-hours",
    "gb-months": "GB-month",
    "gb-mo": "GB-month",
    "cpu minutes": "minutes",
    "cpu-minutes": "minutes",
}

_BY_NAME = {
    name.casefold(): meter
    for meter in VERCEL_METERS
    for name in (meter.service_name, *meter.aliases)
}


def find_meter(service_name: str) -> Meter | None:
    return _BY_NAME.get(service_name.strip().casefold())


def our_unit(unit: str) -> str:
    return UNIT_ALIASES.get(unit.strip().casefold(), unit.strip())


def other_meter(service_name: str) -> Meter:
    """The meter of a name not in the table: its cost goes to "other Vercel usage"."""
    return Meter(service_name.strip(), OTHER_SERVICE, None)


def _check() -> None:
    names = [n.casefold() for m in VERCEL_METERS for n in (m.service_name, *m.aliases)]
    if len(set(names)) != len(names):
        raise ValueError("vercel_services: a ServiceName is listed twice")
    for meter in VERCEL_METERS:
        if meter.service not in SERVICES or (
            meter.metric_type is not None and meter.metric_type not in METRIC_TYPES
        ):
            raise ValueError(f"vercel_services: {meter} names an unknown enum value")
    for alias in UNIT_ALIASES.values():
        if not any(_fits(metric, alias) for metric in METRIC_TYPES):
            raise ValueError(f"vercel_services: unit {alias!r} fits no metric type")


def _fits(metric_type: str, unit: str) -> bool:
    try:
        unit_factor(metric_type, unit)
    except UnitMismatch:
        return False
    return True


_check()
