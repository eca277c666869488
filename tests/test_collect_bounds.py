"""Collection is bounded in time and memory: a response that drips a byte at a time ends
at the retry budget, a source at its own deadline, a decompression bomb at the size cap,
and a slow source holds back nobody else's writes. Servers on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import functools
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import psycopg
import pytest

from jobs.collect import config
from jobs.collect.http import Api, RetryPolicy
from jobs.collect.records import Batch
from jobs.collect.runner import collect, fetched
from jobs.errors import ApiError, PayloadError
from tests.support.fake_apis import FakeApis, charge

NOW = datetime(2026, 11, 20, 10, 0)
GUARD = 60.0  # the test fails instead of hanging if nothing bounds the wait


async def no_wait(_seconds: float) -> None:
    return None


POLICY = RetryPolicy(attempts=3, budget_seconds=2.0, read_timeout=1.0, sleep=no_wait)


class RawServer:
    """Answers every connection on 127.0.0.1 with ``handler(socket)``, in a thread each."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request; we answer whatever it asks
                self.handler(conn, self.stopped)
            except OSError:
                pass  # the client hung up: what a deadline does

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


def drip(conn: socket.socket, stopped: threading.Event) -> None:
    """200 with a chunked body, one byte every 0.2 s, forever: never silent for long."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"
    )
    while not stopped.is_set():
        time.sleep(0.2)
        conn.sendall(b"1\r\n \r\n")


@functools.cache
def gzip_bomb() -> bytes:
    """64 MiB of JSON once inflated, 64 KiB on the wire."""
    return gzip.compress(b"[" + b" " * (64 * 2**20) + b"]", compresslevel=9)


def bomb(conn: socket.socket, stopped: threading.Event) -> None:
    payload = gzip_bomb()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    running = RawServer(request.param)
    yield running
    running.close()


async def get(url: str, policy: RetryPolicy, *, lines: bool = False) -> Any:
    async with httpx.AsyncClient() as client:
        api = Api(client, url, policy=policy)
        if not lines:
            return await asyncio.wait_for(api.get_json("/v1/billing/charges"), GUARD)

        async def every_line(response: httpx.Response) -> int:
            return len([line async for line in response.aiter_lines()])

        return await asyncio.wait_for(api.request("/v1/x", None, every_line), GUARD)


@pytest.mark.parametrize("server", [drip], indirect=True)
@pytest.mark.parametrize("lines", [False, True], ids=["json", "streamed"])
def test_a_drip_fed_response_ends_at_the_retry_budget(server: RawServer, lines: bool) -> None:
    with pytest.raises(ApiError) as failed:
        asyncio.run(get(server.url, POLICY, lines=lines))
    assert str(failed.value) == (
        f"GET /v1/{'x' if lines else 'billing/charges'}: no complete answer within the retry "
        "budget of 2s (attempt 1)"
    )


@pytest.mark.parametrize("server", [bomb], indirect=True)
@pytest.mark.parametrize("lines", [False, True], ids=["json", "streamed"])
def test_a_decompression_bomb_is_refused_at_the_cap(server: RawServer, lines: bool) -> None:
    capped = replace(POLICY, budget_seconds=30.0, max_body_bytes=2**20)
    with pytest.raises(PayloadError) as refused:
        asyncio.run(get(server.url, capped, lines=lines))
    assert str(refused.value).endswith(
        "the response is larger than 1 MiB once decompressed; refused (COLLECT_MAX_RESPONSE_MB)"
    )


@pytest.mark.parametrize("server", [bomb], indirect=True)
def test_a_body_under_the_cap_is_read_whole(server: RawServer) -> None:
    roomy = replace(POLICY, budget_seconds=30.0, max_body_bytes=65 * 2**20)
    assert asyncio.run(get(server.url, roomy)) == []


class Slow:
    """A source that never finishes."""

    name = "slow"

    async def collect(self, since: datetime, now: datetime) -> Batch:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class Quick:
    name = "quick"

    async def collect(self, since: datetime, now: datetime) -> Batch:
        return Batch(rows=[], windows=0)


def test_a_source_past_its_deadline_fails_alone_and_the_quick_one_comes_first() -> None:
    async def results() -> list[tuple[str, object]]:
        sources: list[Any] = [Slow(), Quick()]
        since = {"slow": NOW, "quick": NOW}
        return [r async for r in fetched(sources, since, NOW, budget=0.5)]

    (first, first_result), (second, second_result) = asyncio.run(asyncio.wait_for(results(), GUARD))
    assert (first, second) == ("quick", "slow")
    assert isinstance(first_result, Batch)
    assert isinstance(second_result, ApiError)
    assert str(second_result) == "slow: not finished within 0.5s (COLLECT_SOURCE_BUDGET)"


def test_a_slow_source_does_not_hold_back_the_others_writes(migrated_db: str) -> None:
    """Neon's API holds its answer until the test has seen Vercel's rows committed."""
    release = threading.Event()

    def held(conn: socket.socket, stopped: threading.Event) -> None:
        release.wait(GUARD)
        body = b'{"message": "project not found"}'
        conn.sendall(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    neon = RawServer(held)
    try:
        with FakeApis() as apis:
            apis.charges = [charge(datetime(2026, 11, 19), "Fast Data Transfer", 2.0, "GB", 0.0)]
            env = apis.env(vercel=True) | {
                "NEON_API_KEY": "neon-key-123456",
                "NEON_PROJECT_ID": "ep-1",
                "NEON_API_URL": neon.url,
                "COLLECT_BACKFILL_DAYS": "2",
            }
            policy = replace(POLICY, budget_seconds=GUARD, read_timeout=GUARD)
            outcome: list[Any] = []
            run = threading.Thread(
                target=lambda: outcome.append(
                    collect(config.from_env(env), migrated_db, now=NOW, policy=policy)
                ),
                daemon=True,
            )
            run.start()
            seen = False
            deadline = time.monotonic() + GUARD
            while not seen and time.monotonic() < deadline and not release.is_set():
                with psycopg.connect(migrated_db) as conn:
                    row = conn.execute(
                        """SELECT count(*) FROM "InfrastructureMetric" m
                           JOIN "CollectionWatermark" w ON w.source = m.source
                           WHERE m.source LIKE 'vercel%%'"""
                    ).fetchone()
                seen = bool(row and row[0])
                time.sleep(0.05)
            release.set()
            run.join(GUARD)
        assert seen, "Vercel's rows waited for Neon's answer"
        (report,) = outcome
        assert {o.source: o.ok for o in report.outcomes} == {
            "vercel-billing": True,
            "vercel-deployments": True,
            "neon:ep-1": False,
        }
    finally:
        release.set()
        neon.close()
