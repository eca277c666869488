"""Local HTTP servers on 127.0.0.1 that answer like the receivers `notify` posts to.

- Slack incoming webhooks (``POST /services/T…/B…/secret``): 200 with the text ``ok``;
  errors as plain text bodies (400 ``invalid_payload``, 403 ``action_prohibited``, 404
  ``no_service``, 410 ``channel_is_archived``), 429 with ``Retry-After``.
- A generic webhook (``POST /hook``) that honours ``Idempotency-Key``: a key it has seen
  is acknowledged and not delivered again, as a well-behaved receiver does.

Replies are scripted per path prefix; ``on_request`` lets a test act while a request is
being answered (e.g. kill the client after the message arrived, before it hears back).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.local_server import LocalServer

SLACK_PATH = "/services/T0001/B0002/slacksecretpart123"
WEBHOOK_PATH = "/hook"


@dataclass
class Reply:
    status: int = 200
    body: str | None = None  # None: the route's normal answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: Any
    status: int = 200  # what the server answered


@dataclass
class FakeReceivers(LocalServer):
    delay: float = 0.0

    def __post_init__(self) -> None:
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.received: list[Received] = []
        self.delivered: dict[str, Received] = {}  # webhook: by idempotency key
        self.on_request: Callable[[Received], None] | None = None
        self._lock = threading.Lock()

    def script(self, route: str, *replies: Reply) -> None:
        with self._lock:
            self.scripts[route].extend(replies)

    def next_reply(self, path: str) -> Reply | None:
        with self._lock:
            for route, queue in self.scripts.items():
                if path.startswith(route) and queue:
                    return queue.popleft()
        return None

    @property
    def slack_url(self) -> str:
        return self.url + SLACK_PATH

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def slack_messages(self) -> list[str]:
        """The texts Slack accepted (answered ``ok``)."""
        with self._lock:
            return [
                r.payload["text"] for r in self.received if r.path == SLACK_PATH and r.status == 200
            ]

    def webhook_posts(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == WEBHOOK_PATH and r.status == 200]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(_Handler):
            receivers = fake

        return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receivers: FakeReceivers

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            self._answer()

    def _answer(self) -> None:
        fake = self.receivers
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, payload)
        reply = fake.next_reply(self.path)
        delay = (reply.delay if reply else 0.0) or fake.delay
        if reply is not None and reply.status != 200:
            time.sleep(delay)
            got.status = reply.status
            with fake._lock:
                fake.received.append(got)
            return self._send(reply.status, reply.body or "", reply.headers)
        if self.path == SLACK_PATH:
            if not isinstance(payload, dict) or not str(payload.get("text", "")).strip():
                return self._send(400, "invalid_payload")
            with fake._lock:
                fake.received.append(got)
            if fake.on_request:
                fake.on_request(got)
            time.sleep(delay)  # the message has arrived; the answer is slow
            return self._send(200, "ok")
        if self.path == WEBHOOK_PATH:
            key = got.headers.get("idempotency-key", "")
            with fake._lock:
                fake.received.append(got)
                fake.delivered.setdefault(key, got)
            if fake.on_request:
                fake.on_request(got)
            time.sleep(delay)
            return self._send(200, json.dumps({"status": "accepted"}), ctype="application/json")
        return self._send(404, "no_service")

    def _send(
        self,
        status: int,
        body: str,
        headers: dict[str, str] | None = None,
        ctype: str = "text/plain; charset=utf-8",
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
