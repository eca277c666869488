"""Retries, timeouts and streams of the sources' HTTP, against a local server on 127.0.0.1.

Backoff is made instant by a recording ``sleep``: the tests check which waits were asked
for, never how long anything took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import httpx
import pytest

from jobs.collect.http import Api, RetryPolicy
from jobs.collect.records import Batch
from jobs.collect.runner import run_async
from jobs.collect.sources.vercel_billing import VercelBilling
from jobs.errors import ApiError, PayloadError
from tests.support.fake_apis import VERCEL_TOKEN, FakeApis, Reply, charge

DAY = datetime(2026, 11, 19)
NOW = datetime(2026, 11, 20, 10, 0)


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    with FakeApis() as fake:
        fake.charges = [
            charge(DAY, "Edge Requests", 1000 * (i + 1), "Requests", 0.01) for i in range(5)
        ]
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def run_billing(apis: FakeApis, policy: RetryPolicy) -> Batch:
    async def go() -> Batch:
        async with httpx.AsyncClient() as client:
            api = Api(
                client,
                apis.url,
                headers={"Authorization": f"Bearer {VERCEL_TOKEN}"},
                policy=policy,
                credential_hint="VERCEL_TOKEN",
            )
            return await VercelBilling(api, "team_1").collect(DAY, NOW)

    return run_async(go())


def fast(sleeps: Sleeps, **changes: float) -> RetryPolicy:
    return replace(RetryPolicy(attempts=4, base_delay=0.5, sleep=sleeps), **changes)


def requests_of(batch: Batch) -> float:
    return sum(r.value for r in batch.rows if r.metric_type == "REQUESTS")


def test_429_with_retry_after_waits_as_asked_then_succeeds(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script(
        "/v1/billing", Reply(429, {"error": {"code": "rate_limited"}}, {"Retry-After": "7"})
    )
    batch = run_billing(apis, fast(sleeps))
    assert sleeps == [7.0]
    assert requests_of(batch) == 15000
    assert len(apis.calls("/v1/billing")) == 2


def test_429_without_retry_after_uses_the_bodys_reset_or_backoff(
    apis: FakeApis, sleeps: Sleeps
) -> None:
    reset_ms = int((time.time() + 30) * 1000)
    apis.script(
        "/v1/billing",
        Reply(429, {"error": {"code": "rate_limited", "limit": {"reset": reset_ms}}}),
        Reply(429, {"error": {"code": "rate_limited"}}),
    )
    batch = run_billing(apis, fast(sleeps))
    assert 25 < sleeps[0] <= 30  # until the reset (milliseconds since the epoch)
    assert 0.5 <= sleeps[1] <= 1.0  # no hint: exponential backoff with jitter (step 2)
    assert requests_of(batch) == 15000


def test_500_then_success(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script("/v1/billing", Reply(500, b"upstream exploded"), Reply(503, b""))
    assert requests_of(run_billing(apis, fast(sleeps))) == 15000
    assert len(sleeps) == 2


def test_retries_are_bounded_in_count(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script("/v1/billing", *[Reply(500, b"down")] * 10)
    with pytest.raises(ApiError, match=r"^GET /v1/billing/charges: HTTP 500; gave up after 4 "):
        run_billing(apis, fast(sleeps))
    assert len(apis.calls("/v1/billing")) == 4


def test_retries_are_bounded_in_total_time(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script("/v1/billing", Reply(429, {}, {"Retry-After": "3600"}))
    with pytest.raises(ApiError, match="waiting 3600s more would exceed the retry budget of 120s"):
        run_billing(apis, fast(sleeps))
    assert sleeps == []


def test_a_response_slower_than_the_timeout_is_retried_then_given_up(
    apis: FakeApis, sleeps: Sleeps
) -> None:
    apis.delay = 2.0
    with pytest.raises(ApiError, match=r"no answer within 0.2s; gave up after 2 attempts"):
        run_billing(apis, fast(sleeps, read_timeout=0.2, attempts=2))


def test_an_expired_token_fails_at_once_with_the_providers_words(
    apis: FakeApis, sleeps: Sleeps
) -> None:
    apis.script(
        "/v1/billing", Reply(401, {"error": {"code": "forbidden", "message": "Token expired"}})
    )
    with pytest.raises(ApiError) as caught:
        run_billing(apis, fast(sleeps))
    assert str(caught.value) == (
        "GET /v1/billing/charges: HTTP 401: Token expired "
        "(the credentials were refused: check VERCEL_TOKEN)"
    )
    assert sleeps == []


def test_a_stream_cut_in_the_middle_is_retried_from_scratch(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script("/v1/billing", Reply(cut_after=3))
    batch = run_billing(apis, fast(sleeps))
    assert requests_of(batch) == 15000  # the three lines of the cut attempt are not counted twice
    assert len(sleeps) == 1


def test_a_stream_cut_every_time_fails_the_source(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.script("/v1/billing", *[Reply(cut_after=2)] * 4)
    with pytest.raises(ApiError, match="the response was cut short"):
        run_billing(apis, fast(sleeps))


def test_a_malformed_line_fails_without_retry(apis: FakeApis, sleeps: Sleeps) -> None:
    apis.charges.insert(2, b'{"BilledCost": 1, "ServiceName": \n')
    with pytest.raises(PayloadError, match=r"^line 3 of the charges stream is not valid JSON$"):
        run_billing(apis, fast(sleeps))
    assert sleeps == []


def test_the_stream_is_read_incrementally(apis: FakeApis, sleeps: Sleeps) -> None:
    # Chunked transfer with one line per chunk: the parser sees lines before the end.
    seen: list[int] = []

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            api = Api(
                client,
                apis.url,
                headers={"Authorization": f"Bearer {VERCEL_TOKEN}"},
                policy=fast(sleeps),
            )

            async def consume(response: httpx.Response) -> None:
                assert response.headers["transfer-encoding"] == "chunked"
                async for line in response.aiter_lines():
                    seen.append(json.loads(line)["ConsumedQuantity"])

            # The Los Angeles day of the 19th ends at 08:00 UTC on the 20th.
            params = {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}
            await api.request("/v1/billing/charges", params, consume)

    run_async(go())
    assert seen == [1000, 2000, 3000, 4000, 5000]


def test_the_request_carries_the_window_and_team(apis: FakeApis, sleeps: Sleeps) -> None:
    run_billing(apis, fast(sleeps))
    query = apis.calls("/v1/billing")[0]
    # A week before the day asked for, from Los Angeles midnight (08:00 UTC in November),
    # up to now: every charge day that ended since.
    assert query["from"] == ["2026-11-11T08:00:00.000Z"]
    assert query["to"] == [NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")]
    assert query["teamId"] == ["team_1"]
