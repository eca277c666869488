"""Deliver one message over HTTP: Slack incoming webhooks and generic JSON webhooks.

A sender never raises for what the receiver or the network does: it returns an Outcome,
and the run records it (a failed message is retried by the next run). Error texts are
scrubbed of the receiver's secrets (a Slack webhook URL is itself the secret).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx

from jobs.collect.http import retry_delay
from jobs.notify.render import Message, slack_payload, webhook_payload
from jobs.redact import scrub

# Slack's documented webhook errors, as its plain-text bodies name them.
SLACK_HINTS = {
    "invalid_payload": "Slack could not read the message",
    "no_service": "the webhook was removed or disabled: create a new one",
    "no_team": "the workspace no longer exists",
    "channel_not_found": "the webhook's channel no longer exists",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "an admin restricted posting to the channel",
    "invalid_token": "the webhook's token is no longer valid",
    "team_disabled": "the workspace is disabled",
}
ERROR_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait


class Sender(Protocol):
    def send(self, message: Message, now: datetime) -> Outcome: ...


def is_http_url(text: str) -> bool:
    """An absolute http(s) URL with a host, as httpx will send to it."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host) and " " not in text


def url_secrets(url: str) -> list[str]:
    """A webhook URL and its path: either is enough to post to it."""
    try:
        path = httpx.URL(url).raw_path.decode("ascii", "replace") if url else ""
    except httpx.InvalidURL:  # refused later with a clear message; the value is still secret
        return [url]
    return [url, path] if len(path) > 1 else [url]


class _Http:
    def __init__(
        self, client: httpx.Client, url: str, secrets: Iterable[str], clock: Callable[[], float]
    ) -> None:
        self._client = client
        self._url = url
        self._secrets = [*secrets, *url_secrets(url)]
        self._clock = clock

    def _fail(self, text: str, retry_after: float | None = None) -> Outcome:
        short = " ".join(scrub(text, self._secrets).split())[:ERROR_CHARS]
        return Outcome(False, short, retry_after)

    def post(self, payload: dict[str, object], headers: dict[str, str]) -> httpx.Response | Outcome:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            return self._client.post(
                self._url,
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8", **headers},
            )
        except httpx.TimeoutException:
            return self._fail("no answer in time; it may have been delivered")
        except httpx.HTTPError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return self._fail(f"the receiver is unreachable ({reason})")

    def refused(self, response: httpx.Response, text: str) -> Outcome:
        asked = None
        if response.status_code in (429, 503):
            asked = retry_delay(response.headers, response.content, self._clock())
        return self._fail(f"HTTP {response.status_code}: {text}", asked)


class SlackSender(_Http):
    """Slack incoming webhook: 200 with the body ``ok``; errors are plain text."""

    def send(self, message: Message, now: datetime) -> Outcome:
        answer = self.post(slack_payload(message), {})
        if isinstance(answer, Outcome):
            return answer
        text = answer.text.strip()
        if answer.status_code == 200 and text == "ok":
            return Outcome(True)
        hint = SLACK_HINTS.get(text)
        return self.refused(answer, f"{text or 'no details'}" + (f" ({hint})" if hint else ""))


class WebhookSender(_Http):
    """Any 2xx is delivered; the idempotency key travels in the body and a header, so a
    receiver can drop a message it already has."""

    def send(self, message: Message, now: datetime) -> Outcome:
        answer = self.post(webhook_payload(message, now), {"Idempotency-Key": message.key})
        if isinstance(answer, Outcome):
            return answer
        if 200 <= answer.status_code < 300:
            return Outcome(True)
        return self.refused(answer, answer.text.strip() or "no details")
