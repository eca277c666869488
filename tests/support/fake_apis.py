"""Local HTTP servers on 127.0.0.1 that speak the provider APIs the collection job calls.

One ``ThreadingHTTPServer`` in a thread answers every route (Vercel, Neon, Upstash), from
data the test sets, the way the real services were observed to answer (REFERENCE.md
sections 3-5): Vercel charges as JSON lines streamed with chunked encoding, only the
charges that *ended* inside ``[from, to)`` and only once published (``publication_lag``
after their end, as of ``now``), ``404 costs_not_found`` when none (always, for a Hobby
team), a range over a year refused; deployments paginated with ``pagination.next``;
Neon's consumption history (cursor pages, 406 beyond 60 days daily / 168 h hourly) and
project; Upstash stats, 404 for a database the Developer API does not serve (Marketplace).
Failures are scripted per route: a status with headers and body, a delay, or a stream cut
after N lines.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.support.local_server import LocalServer

VERCEL_TOKEN = "vercel-test-token"
NEON_KEY = "neon-test-key"
UPSTASH_EMAIL = "ops@example.com"
UPSTASH_KEY = "upstash-test-key"
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
PUBLISHED = "_publishedAt"  # a charge's own publication time (naive UTC), never sent
NO_COSTS = {"error": {"code": "costs_not_found", "message": "Costs not found"}}


@dataclass
class Reply:
    """A scripted answer: ``status`` with ``body`` (None: the route's normal data),
    after ``delay`` seconds; ``cut_after`` lines of a stream, then the connection drops."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_after: int | None = None


def _iso_to_dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


@dataclass
class FakeApis(LocalServer):
    charges: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    neon_projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    neon_consumption: list[dict[str, Any]] = field(default_factory=list)
    upstash_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    delay: float = 0.0  # before every answer
    page_size: int | None = None  # deployments per page, overriding the client's limit
    now: datetime | None = None  # the provider's clock (naive UTC); None: all published
    publication_lag: timedelta = timedelta(hours=24)  # a charge day appears this long after
    hobby: bool = False  # the billing API answers 404 costs_not_found for every window

    def __post_init__(self) -> None:
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at the same time
        self._lock = threading.Lock()

    # -- test side -------------------------------------------------------------------
    def script(self, route: str, *replies: Reply) -> None:
        """Answer the next requests to paths starting with ``route`` with ``replies``."""
        with self._lock:
            self.scripts[route].extend(replies)

    def calls(self, route: str) -> list[dict[str, list[str]]]:
        with self._lock:
            return [q for path, q in self.requests if path.startswith(route)]

    def env(self, *, vercel: bool = True, neon: str | None = None, upstash: str = "") -> dict:
        """Environment variables enabling sources against this server."""
        env: dict[str, str] = {}
        if vercel:
            env |= {
                "VERCEL_TOKEN": VERCEL_TOKEN,
                "VERCEL_TEAM_ID": "team_1",
                "VERCEL_API_URL": self.url,
            }
        if neon == "project":
            env |= {"NEON_API_KEY": NEON_KEY, "NEON_PROJECT_ID": ",".join(self.neon_projects)}
        elif neon == "org":
            env |= {"NEON_API_KEY": NEON_KEY, "NEON_ORG_ID": "org-1"}
        if neon:
            env["NEON_API_URL"] = self.url
        if upstash:
            env |= {
                "UPSTASH_EMAIL": UPSTASH_EMAIL,
                "UPSTASH_API_KEY": UPSTASH_KEY,
                "UPSTASH_DATABASE_IDS": upstash,
                "UPSTASH_API_URL": self.url,
            }
        return env

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(_Handler):
            apis = fake

        return Handler

    # -- server side -----------------------------------------------------------------
    def next_reply(self, path: str) -> Reply:
        with self._lock:
            for route, queue in self.scripts.items():
                if path.startswith(route) and queue:
                    return queue.popleft()
        return Reply()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    apis: FakeApis

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        with self.apis._lock:
            self.apis.in_flight += 1
            self.apis.max_in_flight = max(self.apis.max_in_flight, self.apis.in_flight)
        try:
            # The client may have given up (a timeout test): nothing left to answer.
            with contextlib.suppress(TimeoutError, BrokenPipeError, ConnectionResetError):
                self._answer()
        finally:
            with self.apis._lock:
                self.apis.in_flight -= 1

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        with self.apis._lock:
            self.apis.requests.append((path, query))
        reply = self.apis.next_reply(path)
        delay = reply.delay or self.apis.delay
        if delay:
            time.sleep(delay)
        if reply.status != 200 or reply.body is not None:
            return self._send(reply.status, reply.body if reply.body is not None else {}, reply)
        refused = self._refuse(path)
        if refused:
            return self._send(401, refused, reply)
        if path == "/v1/billing/charges":
            return self._stream_charges(query, reply)
        if path == "/v6/deployments":
            return self._send(200, self._deployments(query), reply)
        if path == "/consumption_history/v2/projects":
            refused = self._neon_range(query)
            if refused:
                return self._send(406, refused, reply)
            return self._send(200, self._consumption(query), reply)
        if path.startswith("/projects/"):
            project = self.apis.neon_projects.get(path.rsplit("/", 1)[1])
            if project is None:
                return self._send(404, {"message": "project not found"}, reply)
            return self._send(200, {"project": project}, reply)
        if path.startswith("/v2/redis/stats/"):
            stats = self.apis.upstash_stats.get(path.rsplit("/", 1)[1])
            if stats is None:
                return self._send(404, {"error": "database not found"}, reply)
            return self._send(200, stats, reply)
        return self._send(404, {"error": {"code": "not_found", "message": "no such route"}}, reply)

    def _refuse(self, path: str) -> dict[str, Any] | None:
        auth = self.headers.get("Authorization", "")
        if path.startswith("/v2/redis/"):
            wanted = base64.b64encode(f"{UPSTASH_EMAIL}:{UPSTASH_KEY}".encode()).decode()
            return None if auth == f"Basic {wanted}" else {"error": "Unauthorized"}
        token = NEON_KEY if path.startswith(("/projects", "/consumption")) else VERCEL_TOKEN
        if auth == f"Bearer {token}":
            return None
        return {"error": {"code": "forbidden", "message": "The request is not authorized."}}

    def _send(self, status: int, body: Any, reply: Reply) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _published(self, charge: dict[str, Any]) -> bool:
        now = self.apis.now
        if now is None:
            return True
        at = charge.get(PUBLISHED) or _iso_to_dt(charge["ChargePeriodEnd"]) + (
            self.apis.publication_lag
        )
        return bool(at <= now)

    def _stream_charges(self, query: dict[str, list[str]], reply: Reply) -> None:
        start, end = _iso_to_dt(query["from"][0]), _iso_to_dt(query["to"][0])
        if end - start > timedelta(days=365):
            problem = {"code": "bad_request", "message": "The date range cannot exceed 1 year"}
            return self._send(400, {"error": problem}, reply)
        if self.apis.hobby:
            return self._send(404, NO_COSTS, reply)
        # The window selects charges that ended inside [from, to), once published.
        lines = [
            json.dumps({k: v for k, v in c.items() if k != PUBLISHED}).encode() + b"\n"
            if isinstance(c, dict)
            else c
            for c in self.apis.charges
            if not isinstance(c, dict)
            or (start <= _iso_to_dt(c["ChargePeriodEnd"]) < end and self._published(c))
        ]
        if not lines:
            return self._send(404, NO_COSTS, reply)
        self.send_response(200)
        self.send_header("Content-Type", "application/jsonl")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for number, line in enumerate(lines):
            if reply.cut_after is not None and number >= reply.cut_after:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # no terminating chunk
                self.close_connection = True
                return
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _deployments(self, query: dict[str, list[str]]) -> dict[str, Any]:
        since, until = int(query["since"][0]), int(query["until"][0])
        limit = self.apis.page_size or int(query.get("limit", ["20"])[0])
        matching = sorted(
            (d for d in self.apis.deployments if since <= d["created"] < until),
            key=lambda d: d["created"],
            reverse=True,
        )
        page = matching[:limit]
        following = page[-1]["created"] if len(matching) > limit else None
        return {"deployments": page, "pagination": {"count": len(page), "next": following}}

    def _neon_range(self, query: dict[str, list[str]]) -> dict[str, Any] | None:
        """Neon's range caps per granularity: hourly 168 h, daily 60 days, monthly a year."""
        start, end = _iso_to_dt(query["from"][0]), _iso_to_dt(query["to"][0])
        granularity = query.get("granularity", [""])[0]
        cap = {
            "hourly": timedelta(hours=168),
            "daily": timedelta(days=60),
            "monthly": timedelta(days=366),
        }.get(granularity)
        if cap is None or end - start <= cap:
            return None
        return {
            "request_id": "req-1",
            "code": "",
            "message": f"requested time range is too large for {granularity} granularity",
        }

    def _consumption(self, query: dict[str, list[str]]) -> dict[str, Any]:
        start, end = _iso_to_dt(query["from"][0]), _iso_to_dt(query["to"][0])
        limit = int(query.get("limit", ["10"])[0])
        offset = int(query.get("cursor", ["0"])[0])
        projects = []
        for project in self.apis.neon_consumption[offset : offset + limit]:
            frames = [
                c for c in project["consumption"] if start <= _iso_to_dt(c["timeframe_start"]) < end
            ]
            projects.append(
                {"project_id": project["project_id"], "periods": [{"consumption": frames}]}
            )
        return {"projects": projects, "pagination": {"cursor": str(offset + len(projects))}}


def pacific_day(day: date | datetime) -> tuple[datetime, datetime]:
    """The charge period of a Vercel day: Los Angeles midnight to the next, naive UTC."""
    local = day.date() if isinstance(day, datetime) else day

    def utc(d: date) -> datetime:
        moment = datetime.combine(d, clock_time(), tzinfo=LOS_ANGELES)
        return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    return utc(local), utc(local + timedelta(days=1))


def charge(
    day: date | datetime,
    service: str,
    quantity: float | None,
    unit: str | None,
    cost: float,
    *,
    billed: float | None = None,
    project: str | None = "web",
    category: str = "Usage",
    provider: str = "Vercel",
    published: datetime | None = None,
) -> dict[str, Any]:
    """One FOCUS 1.3 charge line as Vercel's billing API sends it: the Los Angeles day
    holding ``day``'s date, ``cost`` as EffectiveCost (BilledCost: ``billed``, default the
    same), Tags with the project; ``published`` overrides when it appears."""
    start, end = pacific_day(day)
    line: dict[str, Any] = {
        "BilledCost": cost if billed is None else billed,
        "BillingCurrency": "USD",
        "ChargeCategory": category,
        "ChargePeriodStart": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "ChargePeriodEnd": end.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit,
        "EffectiveCost": cost,
        "PricingCategory": "Standard",
        "PricingCurrency": "USD",
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "RegionId": "iad1",
        "RegionName": "Washington, D.C., USA",
        "ServiceCategory": "Networking",
        "ServiceName": service,
        "ServiceProviderName": provider,
        "Tags": {"ProjectId": f"prj_{project}", "ProjectName": project} if project else {},
    }
    if published is not None:
        line[PUBLISHED] = published
    return line


def deployment(uid: str, created: datetime, build_seconds: float | None, **extra: Any) -> dict:
    """A deployment as ``/v6/deployments`` lists it (times in epoch milliseconds)."""
    created_ms = int((created - datetime(1970, 1, 1)).total_seconds() * 1000)
    # v6 always sends ``created``; ``createdAt`` is optional there.
    item: dict[str, Any] = {
        "uid": uid,
        "name": "web",
        "created": created_ms,
        "createdAt": created_ms,
        "state": "READY",
    }
    if build_seconds is not None:
        item["buildingAt"] = created_ms + 5_000
        item["ready"] = created_ms + 5_000 + int(build_seconds * 1000)
    return item | extra


def upstash_stats(days: list[datetime], commands: list[int], storage_bytes: int) -> dict:
    """``/v2/redis/stats/{id}``: one point per day for the daily series."""

    def at(day: datetime) -> str:
        return day.strftime("%Y-%m-%d 15:12:52.799480932 +0000 UTC")

    return {
        "dailyrequests": [{"x": at(d), "y": c} for d, c in zip(days, commands, strict=True)],
        "bandwidths": [{"x": at(d), "y": c * 1000} for d, c in zip(days, commands, strict=True)],
        "days": [d.strftime("%A") for d in days],
        "current_storage": storage_bytes,
        "latencymean": [{"x": at(days[-1]), "y": 2.0}, {"x": at(days[-1]), "y": 4.0}],
        "latency_99": [{"x": at(days[-1]), "y": 9.5}],
        "total_monthly_requests": sum(commands),
        "total_monthly_bandwidth": sum(commands) * 1000,
        "total_monthly_billing": 0.42,
    }
