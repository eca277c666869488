"""HTTP for the sources: explicit timeouts, bounded retries with backoff and jitter.

Connection errors, timeouts, a body cut short, 429 and 5xx are retried; the delay honours
``Retry-After`` or the JSON body's ``error.limit.reset`` (Vercel), else grows exponentially
with jitter. Retries are bounded by a count and by a total time budget, which is also a
deadline: a response that drips a byte at a time is cut when the budget runs out, however
lively it is. A body, once decompressed, may not exceed ``max_body_bytes`` (a
decompression bomb is refused while it inflates, not after). Anything else (401, 403, 404,
400) fails at once with one line naming the request and the reason.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeGuard, TypeVar

import httpx

from jobs.errors import ApiError, PayloadError
from jobs.redact import credential_forms, scrub

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    budget_seconds: float = 120.0  # total time for all attempts and waits of one request
    base_delay: float = 1.0
    max_backoff: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # also the longest silence inside a streamed body
    max_body_bytes: int = 256 * 2**20  # of one response, decompressed
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)  # epoch seconds

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter (between half and all of the step)."""
        step = min(self.max_backoff, self.base_delay * 2 ** (attempt - 1))
        return step * random.uniform(0.5, 1.0)


def retry_delay(headers: Mapping[str, str], body: bytes, now: float) -> float | None:
    """The wait the server asked for: ``Retry-After`` (seconds or a date), else
    ``error.limit.reset`` / ``resetMs`` in the JSON body; None when it asked nothing."""
    value = headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            pass
    limit = _json_path(body, "error", "limit")
    if isinstance(limit, dict):
        reset_ms = limit.get("resetMs")
        if _is_number(reset_ms):
            return max(0.0, float(reset_ms) / 1000 - now)
        reset = limit.get("reset")
        if _is_number(reset):
            return _reset_delay(float(reset), now)
    return None


def _reset_delay(reset: float, now: float) -> float:
    # An epoch in milliseconds, an epoch in seconds, or (small) seconds to wait.
    if reset > 1e11:
        reset /= 1000
    elif reset < 1e9:
        return max(0.0, reset)
    return max(0.0, reset - now)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_path(body: bytes, *keys: str) -> Any:
    try:
        value: Any = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def error_message(body: bytes) -> str:
    """The provider's own words from an error body, shortened to one line."""
    for path in (("error", "message"), ("message",), ("error",)):
        found = _json_path(body, *path)
        if isinstance(found, str) and found.strip():
            return " ".join(found.split())[:200]
    text = body.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:200] or "no details"


def error_code(body: bytes) -> str:
    """The provider's error code (Vercel's ``error.code``, Neon's ``code``), or ""."""
    for path in (("error", "code"), ("code",)):
        found = _json_path(body, *path)
        if isinstance(found, str):
            return found
    return ""


def refuse_error_body(payload: object, what: str) -> None:
    """A 200 whose body is an error object is a failure, never an empty success."""
    if isinstance(payload, dict) and payload.get("error"):
        text = json.dumps(payload).encode()
        raise ApiError(f"{what}: HTTP 200 with an error body: {error_message(text)}")


_HINTS = {401: "the credentials were refused", 403: "the credentials lack access"}


class Api:
    """One provider's API: a base URL, its authentication, the retry policy."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        policy: RetryPolicy,
        credential_hint: str = "",
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._auth = auth
        self.policy = policy
        self._hint = credential_hint
        self._secrets = _credentials(self._headers, auth)

    def _failed(self, message: str, status: int | None = None, code: str = "") -> ApiError:
        """An ApiError whose text holds none of our credentials, even if the API echoed one."""
        return ApiError(scrub(message, self._secrets), status=status, code=code)

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        async def parse(response: httpx.Response) -> Any:
            body = await response.aread()
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: too deep
                raise PayloadError(f"GET {path}: the response is not JSON") from None
            refuse_error_body(payload, f"GET {path}")
            return payload

        return await self.request(path, params, parse)

    async def request(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        consume: Callable[[httpx.Response], Awaitable[T]],
    ) -> T:
        """GET ``path`` and hand a 200 response to ``consume``, retrying what may pass.

        ``consume`` starts from scratch on every attempt, so a body cut short and retried
        is never counted twice; a PayloadError it raises is not retried.
        """
        policy = self.policy
        started = time.monotonic()
        what = f"GET {path}"
        for attempt in range(1, policy.attempts + 1):
            asked: float | None = None
            try:
                async with asyncio.timeout(policy.budget_seconds - (time.monotonic() - started)):
                    async with self._client.stream(
                        "GET",
                        self._base + path,
                        params=dict(params or {}),
                        headers=self._headers,
                        auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                        timeout=policy.timeout,
                    ) as response:
                        _cap_body(response, policy.max_body_bytes, what)
                        if response.status_code == 200:
                            return await consume(response)
                        body = await response.aread()
                        status = response.status_code
                        if status not in RETRYABLE_STATUS:
                            hint = _HINTS.get(status, "")
                            extra = f" ({hint}{': check ' + self._hint if self._hint else ''})"
                            raise self._failed(
                                f"{what}: HTTP {status}: {error_message(body)}"
                                + (extra if hint else ""),
                                status,
                                error_code(body),
                            )
                        reason = f"HTTP {status}"
                        asked = retry_delay(response.headers, body, policy.clock())
            except TimeoutError:  # asyncio.timeout: the budget ran out during this attempt
                raise self._failed(
                    f"{what}: no complete answer within the retry budget of "
                    f"{policy.budget_seconds:g}s (attempt {attempt})"
                ) from None
            except httpx.TimeoutException:
                reason = f"no answer within {policy.read_timeout:g}s"
            except httpx.RemoteProtocolError as exc:
                reason = f"the response was cut short ({_first_line(exc)})"
            except httpx.TransportError as exc:
                reason = f"connection failed ({_first_line(exc)})"
            except httpx.HTTPError as exc:  # undecodable body and the like
                reason = f"the response could not be read ({_first_line(exc)})"
            if attempt == policy.attempts:
                raise self._failed(f"{what}: {reason}; gave up after {attempt} attempts")
            delay = asked if asked is not None else policy.backoff(attempt)
            elapsed = time.monotonic() - started
            if elapsed + delay > policy.budget_seconds:
                raise self._failed(
                    f"{what}: {reason}; waiting {delay:.0f}s more would exceed the retry "
                    f"budget of {policy.budget_seconds:g}s (attempt {attempt})"
                )
            await policy.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _cap_body(response: httpx.Response, limit: int, what: str) -> None:
    """Make every read of ``response`` (``aread``, ``aiter_lines``, … all go through
    ``aiter_bytes``, after decompression) fail once more than ``limit`` bytes came out."""
    decoded = response.aiter_bytes

    async def capped(chunk_size: int | None = None) -> AsyncIterator[bytes]:
        total = 0
        async for chunk in decoded(chunk_size):
            total += len(chunk)
            if total > limit:
                raise PayloadError(
                    f"{what}: the response is larger than {limit / 2**20:g} MiB once "
                    "decompressed; refused (COLLECT_MAX_RESPONSE_MB)"
                )
            yield chunk

    response.aiter_bytes = capped  # type: ignore[method-assign]


def _credentials(
    headers: Mapping[str, str], auth: httpx.Auth | tuple[str, str] | None
) -> list[str]:
    """Every form our credentials take on the wire: header values, bearer tokens, Basic."""
    found: list[str] = []
    for value in headers.values():
        found.append(value)
        scheme, _, token = value.partition(" ")
        if scheme.lower() in ("bearer", "basic") and token:
            found.append(token)
    if isinstance(auth, tuple):
        found += credential_forms(auth[0], auth[1])
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
