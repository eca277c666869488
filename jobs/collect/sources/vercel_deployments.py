"""Vercel deployments: ``GET /v6/deployments``, paginated with ``pagination.next``.

Builds and build minutes per day (by the day a deployment was created, ``created``; v6
guarantees it, ``createdAt`` is optional there). Every deployment listed counts as a build
once it left the queue (not QUEUED or INITIALIZING);
its minutes are ``ready - buildingAt`` rounded up to whole minutes, and a build without
``buildingAt`` or with ``ready`` 0 (seen on ERROR builds) adds none.
Every day of the window gets a row, zero included: the list is complete, so zero is known.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobs.collect.http import Api
from jobs.collect.records import DAY, MetricRow, day_start
from jobs.collect.sources.base import (
    Batch,
    DailyPlan,
    epoch_ms,
    from_epoch_ms,
    mapping,
    optional,
    required,
)
from jobs.errors import PayloadError

NAME = "vercel-deployments"
SETTLE = timedelta(hours=1)  # longer than Vercel's longest build (45 minutes)
PAGE_SIZE = 100
NOT_STARTED = frozenset({"QUEUED", "INITIALIZING"})
MAX_PAGES = 1000


@dataclass(frozen=True)
class Deployment:
    uid: str
    created: datetime
    building_at: datetime | None
    ready: datetime | None
    state: str
    project: str

    @property
    def minutes(self) -> int | None:
        if self.building_at is None or self.ready is None or self.ready < self.building_at:
            return None
        return math.ceil((self.ready - self.building_at) / timedelta(minutes=1))


def parse_deployment(obj: object, where: str) -> Deployment:
    data = mapping(obj, where)
    uid = required(data, "uid", str, where)
    where = f"{where} ({uid})"
    building = optional(data, "buildingAt", (int, float), where)
    ready = optional(data, "ready", (int, float), where)
    state = optional(data, "state", str, where) or optional(data, "readyState", str, where) or ""
    project = optional(data, "name", str, where) or optional(data, "projectId", str, where) or "?"
    created = optional(data, "created", (int, float), where)
    if created is None:
        created = optional(data, "createdAt", (int, float), where)
    if created is None:
        raise PayloadError(f"{where}: 'created' is missing")
    return Deployment(
        uid=uid,
        created=from_epoch_ms(created, where),
        building_at=from_epoch_ms(building, where) if building else None,
        ready=from_epoch_ms(ready, where) if ready else None,
        state=state,
        project=project,
    )


def parse_page(payload: object, page: int) -> tuple[list[Deployment], int | None]:
    where = f"deployments page {page}"
    data = mapping(payload, where)
    items = required(data, "deployments", list, where)
    deployments = [parse_deployment(d, f"{where}, item {i + 1}") for i, d in enumerate(items)]
    pagination = optional(data, "pagination", dict, where) or {}
    following = optional(pagination, "next", (int, float), f"{where}, pagination")
    return deployments, int(following) if following else None


@dataclass
class _Day:
    builds: int = 0
    minutes: int = 0
    states: Counter[str] = field(default_factory=Counter)
    projects: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"builds": 0, "minutes": 0})
    )


def build_rows(deployments: list[Deployment], plan: DailyPlan, source: str) -> list[MetricRow]:
    """BUILDS and BUILD_MINUTES for every day of the plan (pure)."""
    per_day: dict[datetime, _Day] = {}
    day = plan.start
    while day < plan.end:
        per_day[day] = _Day()
        day += DAY
    seen: set[str] = set()
    for deployment in deployments:
        bucket = per_day.get(day_start(deployment.created))
        if bucket is None or deployment.uid in seen or deployment.state in NOT_STARTED:
            continue
        seen.add(deployment.uid)
        minutes = deployment.minutes or 0
        bucket.builds += 1
        bucket.minutes += minutes
        bucket.states[deployment.state or "?"] += 1
        bucket.projects[deployment.project]["builds"] += 1
        bucket.projects[deployment.project]["minutes"] += minutes
    rows = []
    for start, bucket in per_day.items():
        meta: dict[str, Any] = {"states": dict(sorted(bucket.states.items()))}
        meta["projects"] = {k: v for k, v in sorted(bucket.projects.items())}
        end = start + DAY
        rows.append(MetricRow("VERCEL_BUILD", "BUILDS", bucket.builds, start, end, source, meta))
        rows.append(
            MetricRow("VERCEL_BUILD", "BUILD_MINUTES", bucket.minutes, start, end, source, meta)
        )
    return rows


@dataclass
class VercelDeployments:
    api: Api
    team_id: str | None = None
    name: str = NAME

    async def collect(self, since: datetime, now: datetime) -> Batch:
        plan = DailyPlan.make(since, now, SETTLE)
        deployments: list[Deployment] = []
        until = epoch_ms(plan.end)
        for page in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"since": epoch_ms(plan.start), "until": until}
            params["limit"] = PAGE_SIZE
            if self.team_id:
                params["teamId"] = self.team_id
            items, following = parse_page(await self.api.get_json("/v6/deployments", params), page)
            deployments.extend(items)
            if following is None or not items:
                break
            if following >= until:
                raise PayloadError(f"deployments page {page}: pagination.next does not move back")
            until = following
        else:
            raise PayloadError(f"deployments: more than {MAX_PAGES} pages")
        return Batch(
            rows=build_rows(deployments, plan, self.name),
            windows=plan.windows,
            complete_through=plan.complete_through,
        )
