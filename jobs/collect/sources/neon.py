"""Neon (Vercel Postgres): usage per project, streams ``neon:<project_id>``.

Two shapes, by what the credentials allow:

- ``NeonConsumption`` (``NEON_ORG_ID``; paid plans): ``GET /consumption_history/v2/projects``
  with daily granularity, ``limit`` + ``cursor`` pagination, one request per at most 60 days
  (Neon answers 406 beyond its range caps: daily 60 days, hourly 168 hours). A timeframe
  without ``timeframe_*`` cannot be placed and is skipped (counted in the notes); one
  without ``metrics`` counts as zero usage. Per project and day: compute
  (CU-seconds -> COMPUTE_HOURS), storage (root + child branch byte-hours -> the day's
  average STORAGE_MB) and public egress (BANDWIDTH_GB).
- ``NeonProject`` (``NEON_PROJECT_ID``; any plan): ``GET /projects/{id}``, counters since
  the start of the consumption period. Compute and transfer become one row per period
  (``timestamp`` = period start, ``windowEnd`` = when observed), updated in place as the
  period goes on; storage (a level, ``synthetic_storage_size``, optional) becomes one row
  per day when the project reports it. This endpoint has no history, so there is nothing
  to backfill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.collect.focus import parse_time
from jobs.collect.http import Api
from jobs.collect.records import DAY, MetricRow, converted, day_start
from jobs.collect.sources.base import Batch, DailyPlan, iso, mapping, optional, required
from jobs.errors import ApiError, PayloadError

SERVICE = "VERCEL_POSTGRES"
SETTLE = timedelta(hours=1)  # Neon refreshes consumption about every 15 minutes
METRICS = (
    "compute_unit_seconds",
    "root_branch_bytes_month",
    "child_branch_bytes_month",
    "instant_restore_bytes_month",
    "public_network_transfer_bytes",
    "private_network_transfer_bytes",
)
PAGE_SIZE = 100
MAX_PAGES = 100
# The longest range Neon serves per request, by granularity (beyond it: 406).
RANGE_CAPS = {"hourly": timedelta(hours=168), "daily": timedelta(days=60)}
GRANULARITY = "daily"


def _span(cap: timedelta) -> str:
    return f"{cap.days} days" if cap.days else f"{cap / timedelta(hours=1):g} hours"


def request_ranges(
    start: datetime, end: datetime, cap: timedelta
) -> list[tuple[datetime, datetime]]:
    """[start, end) in consecutive pieces no longer than ``cap``."""
    pieces = []
    while start < end:
        pieces.append((start, min(end, start + cap)))
        start = pieces[-1][1]
    return pieces


def stream(project_id: str) -> str:
    return f"neon:{project_id}"


def consumption_rows(
    project_id: str, start: datetime, end: datetime, metrics: Mapping[str, float]
) -> list[MetricRow]:
    """The rows of one project's timeframe from the v2 consumption metrics (pure)."""
    source = stream(project_id)
    hours = (end - start) / timedelta(hours=1)
    storage_byte_hours = metrics.get("root_branch_bytes_month", 0.0) + metrics.get(
        "child_branch_bytes_month", 0.0
    )
    extra = {k: v for k, v in sorted(metrics.items()) if k not in ("compute_unit_seconds",)}
    return [
        MetricRow(
            SERVICE,
            "COMPUTE_HOURS",
            converted("COMPUTE_HOURS", metrics.get("compute_unit_seconds", 0.0), "CU-seconds"),
            start,
            end,
            source,
            {"computeUnitSeconds": metrics.get("compute_unit_seconds", 0.0)},
        ),
        MetricRow(
            SERVICE,
            "STORAGE_MB",
            converted("STORAGE_MB", storage_byte_hours / hours, "bytes"),
            start,
            end,
            source,
            {"byteHours": extra},
        ),
        MetricRow(
            SERVICE,
            "BANDWIDTH_GB",
            converted("BANDWIDTH_GB", metrics.get("public_network_transfer_bytes", 0.0), "B"),
            start,
            end,
            source,
            {"privateNetworkTransferBytes": metrics.get("private_network_transfer_bytes", 0.0)},
        ),
    ]


@dataclass(frozen=True)
class ConsumptionPage:
    rows: list[MetricRow]
    projects: int  # on the page
    cursor: str | None  # of the next page
    unplaced: int = 0  # timeframes without timeframe_start/end


def parse_consumption_page(payload: object, page: int) -> ConsumptionPage:
    """Rows, the number of projects on the page, and the cursor of the next page."""
    where = f"consumption page {page}"
    data = mapping(payload, where)
    projects = required(data, "projects", list, where)
    rows: list[MetricRow] = []
    unplaced = 0
    for i, item in enumerate(projects):
        spot = f"{where}, project {i + 1}"
        project = mapping(item, spot)
        project_id = required(project, "project_id", str, spot)
        for period in required(project, "periods", list, spot):
            for entry in required(mapping(period, spot), "consumption", list, spot):
                frame = mapping(entry, spot)
                if frame.get("timeframe_start") is None or frame.get("timeframe_end") is None:
                    unplaced += 1  # optional in Neon's schema; such usage has no window
                    continue
                start = parse_time(frame.get("timeframe_start"), "timeframe_start", spot)
                end = parse_time(frame.get("timeframe_end"), "timeframe_end", spot)
                if end <= start:
                    raise PayloadError(f"{spot}: timeframe_end is not after timeframe_start")
                values: dict[str, float] = {}
                for metric in optional(frame, "metrics", list, spot) or []:
                    named = mapping(metric, spot)
                    name = required(named, "metric_name", str, spot)
                    value = required(named, "value", (int, float), f"{spot}, {name}")
                    if value < 0:
                        raise PayloadError(f"{spot}: {name} is negative")
                    values[name] = values.get(name, 0.0) + float(value)
                rows.extend(consumption_rows(project_id, start, end, values))
    pagination = optional(data, "pagination", dict, where) or {}
    cursor = optional(pagination, "cursor", str, f"{where}, pagination")
    return ConsumptionPage(rows, len(projects), cursor, unplaced)


@dataclass
class NeonConsumption:
    api: Api
    org_id: str
    project_ids: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"neon-org:{self.org_id}"

    async def collect(self, since: datetime, now: datetime) -> Batch:
        plan = DailyPlan.make(since, now, SETTLE)
        rows: list[MetricRow] = []
        unplaced = 0
        for start, end in request_ranges(plan.start, plan.end, RANGE_CAPS[GRANULARITY]):
            for page in await self._pages(start, end):
                rows.extend(page.rows)
                unplaced += page.unplaced
        notes = [f"{unplaced} timeframes without timeframe_start/end skipped"] if unplaced else []
        return Batch(
            rows=rows, windows=plan.windows, complete_through=plan.complete_through, notes=notes
        )

    async def _pages(self, start: datetime, end: datetime) -> list[ConsumptionPage]:
        params: dict[str, Any] = {
            "org_id": self.org_id,
            "from": iso(start),
            "to": iso(end),
            "granularity": GRANULARITY,
            "metrics": ",".join(METRICS),
            "limit": PAGE_SIZE,
        }
        if self.project_ids:
            params["project_ids"] = ",".join(self.project_ids)
        pages: list[ConsumptionPage] = []
        cursor: str | None = None
        for number in range(1, MAX_PAGES + 1):
            try:
                payload = await self.api.get_json(
                    "/consumption_history/v2/projects",
                    params | ({"cursor": cursor} if cursor else {}),
                )
            except ApiError as exc:
                if exc.status == 406:
                    raise ApiError(
                        f"{exc} (Neon refused the range {iso(start)} .. {iso(end)}: it serves "
                        f"at most {_span(RANGE_CAPS[GRANULARITY])} per {GRANULARITY} request)",
                        status=406,
                    ) from None
                raise
            pages.append(parse_consumption_page(payload, number))
            following = pages[-1].cursor
            if pages[-1].projects < PAGE_SIZE or not following or following == cursor:
                return pages
            cursor = following
        raise PayloadError(f"consumption: more than {MAX_PAGES} pages")


def project_rows(payload: object, project_id: str, now: datetime) -> list[MetricRow]:
    """Rows from ``GET /projects/{id}`` observed at ``now`` (pure)."""
    where = f"project {project_id}"
    project = mapping(required(mapping(payload, where), "project", dict, where), where)
    period_start = parse_time(
        project.get("consumption_period_start"), "consumption_period_start", where
    )
    observed = now.replace(second=0, microsecond=0)
    observed = max(observed, period_start + timedelta(minutes=1))

    def number(name: str) -> float:
        value = float(required(project, name, (int, float), where))
        if value < 0:
            raise PayloadError(f"{where}: '{name}' is negative")
        return value

    source = stream(project_id)
    counters = {
        "activeTimeSeconds": number("active_time_seconds"),
        "writtenDataBytes": number("written_data_bytes"),
        "consumptionPeriodEnd": project.get("consumption_period_end"),
    }
    today = day_start(now)
    rows = [
        MetricRow(
            SERVICE,
            "COMPUTE_HOURS",
            converted("COMPUTE_HOURS", number("compute_time_seconds"), "seconds"),
            period_start,
            observed,
            source,
            counters,
        ),
        MetricRow(
            SERVICE,
            "BANDWIDTH_GB",
            converted("BANDWIDTH_GB", number("data_transfer_bytes"), "B"),
            period_start,
            observed,
            source,
            counters,
        ),
    ]
    if project.get("synthetic_storage_size") is not None:  # optional in Neon's schema
        storage = converted("STORAGE_MB", number("synthetic_storage_size"), "B")
        rows.append(MetricRow(SERVICE, "STORAGE_MB", storage, today, today + DAY, source))
    return rows


@dataclass
class NeonProject:
    api: Api
    project_id: str

    @property
    def name(self) -> str:
        return stream(self.project_id)

    async def collect(self, since: datetime, now: datetime) -> Batch:
        payload = await self.api.get_json(f"/projects/{self.project_id}")
        rows = project_rows(payload, self.project_id, now)
        return Batch(rows=rows, windows=2, complete_through=day_start(now))
