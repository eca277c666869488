"""Upstash (Vercel KV): ``GET /v2/redis/stats/{id}`` per database, stream ``upstash:<id>``.

Per day: commands (``dailyrequests``, the last five days) -> OPERATIONS, bandwidth
(``bandwidths``, bytes) -> BANDWIDTH_GB. For today only, as levels: ``current_storage``
(bytes) -> STORAGE_MB and the mean of ``latencymean`` over its last hour -> LATENCY_MS
(p99 in the metadata). The monthly totals go into the metadata of today's commands row.
The API keeps five days, so a gap longer than that cannot be filled (the summary says so).
Points whose ``y`` is null (the last point of a series often is) are skipped.

The Developer API serves native Upstash accounts only: a database created through Vercel's
Marketplace answers 404 there, and the source fails with one line naming the database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jobs.collect.http import Api
from jobs.collect.records import DAY, MetricRow, converted, day_start
from jobs.collect.sources.base import Batch, DailyPlan, mapping, optional, series_time
from jobs.errors import ApiError, PayloadError

SERVICE = "VERCEL_KV"
# A stats answer without any of these is not stats (an error object, an empty body).
EXPECTED = ("dailyrequests", "bandwidths", "current_storage", "diskusage", "latencymean")
SETTLE = timedelta(hours=1)
HISTORY_DAYS = 5


def series(data: Mapping[str, Any], name: str, where: str) -> list[tuple[datetime, float]]:
    points = optional(data, name, list, where) or []
    parsed = []
    for i, point in enumerate(points):
        spot = f"{where}, {name}[{i}]"
        item = mapping(point, spot)
        if "y" in item and item["y"] is None:
            continue  # the newest point is often still open: y null (Upstash's MCP skips it)
        value = optional(item, "y", (int, float), spot)
        if value is None or value < 0:
            raise PayloadError(f"{spot}: 'y' should be a number >= 0, got {item.get('y')!r:.40}")
        parsed.append((series_time(item.get("x"), spot), float(value)))
    return parsed


def stats_rows(
    payload: object, database_id: str, plan: DailyPlan, now: datetime
) -> list[MetricRow]:
    """Rows from one stats payload for the days of ``plan`` (pure)."""
    where = f"stats of {database_id}"
    data = mapping(payload, where)
    if not any(key in data for key in EXPECTED):
        raise PayloadError(f"{where}: none of the expected fields ({', '.join(EXPECTED)})")
    source = f"upstash:{database_id}"
    today = day_start(now)
    monthly = {
        key: optional(data, key, (int, float), where)
        for key in ("total_monthly_requests", "total_monthly_bandwidth", "total_monthly_billing")
    }
    rows: list[MetricRow] = []
    for metric, name, unit in (
        ("OPERATIONS", "dailyrequests", "commands"),
        ("BANDWIDTH_GB", "bandwidths", "B"),
    ):
        per_day: dict[datetime, float] = {}
        for moment, value in series(data, name, where):
            per_day[day_start(moment)] = value  # one point per day; the latest wins
        for day, value in sorted(per_day.items()):
            if plan.start <= day < plan.end:
                meta: dict[str, Any] = {}
                if day == today and metric == "OPERATIONS":
                    meta["monthly"] = monthly
                amount = converted(metric, value, unit)
                rows.append(MetricRow(SERVICE, metric, amount, day, day + DAY, source, meta))
    storage = optional(data, "current_storage", (int, float), where)
    if storage is None:
        disk = series(data, "diskusage", where)
        storage = disk[-1][1] if disk else None
    if storage is not None:
        value = converted("STORAGE_MB", storage, "B")
        rows.append(MetricRow(SERVICE, "STORAGE_MB", value, today, today + DAY, source))
    latency = [v for _, v in series(data, "latencymean", where)]
    if latency:
        p99 = [v for _, v in series(data, "latency_99", where)]
        stats = {"p99": max(p99) if p99 else None, "samples": len(latency)}
        mean = sum(latency) / len(latency)
        if not math.isfinite(mean):
            raise PayloadError(f"{where}: latencymean does not average to a finite number")
        rows.append(MetricRow(SERVICE, "LATENCY_MS", mean, today, today + DAY, source, stats))
    return rows


@dataclass
class UpstashDatabase:
    api: Api
    database_id: str

    @property
    def name(self) -> str:
        return f"upstash:{self.database_id}"

    async def collect(self, since: datetime, now: datetime) -> Batch:
        plan = DailyPlan.make(since, now, SETTLE)
        try:
            payload = await self.api.get_json(f"/v2/redis/stats/{self.database_id}")
        except ApiError as exc:
            if exc.status != 404:
                raise
            raise ApiError(
                f"Upstash database {self.database_id} is not reachable with the Upstash "
                "Developer API (HTTP 404): databases created through Vercel's Marketplace are "
                "not served by it, nor are other accounts' databases; remove it from "
                "UPSTASH_DATABASE_IDS (docs/collection.md, Upstash)",
                status=404,
            ) from None
        notes = []
        oldest = day_start(now) - (HISTORY_DAYS - 1) * DAY
        if plan.start < oldest:
            notes.append(
                f"days before {oldest:%Y-%m-%d} are not available from the API (it keeps "
                f"{HISTORY_DAYS} days)"
            )
        return Batch(
            rows=stats_rows(payload, self.database_id, plan, now),
            windows=plan.windows,
            complete_through=plan.complete_through,
            notes=notes,
        )
