"""The words of a message, pure: one message per receiver and group (account) per run,
for Slack (mrkdwn text) and for a generic JSON webhook (Alertmanager-like payload)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SLACK_ITEM_CHARS = 700  # per alert; the whole text stays far below Slack's 40,000
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":white_circle:"}


@dataclass(frozen=True)
class Item:
    """One notification of the log, as sent."""

    fingerprint: str
    dedup_key: str
    kind: str
    severity: str
    state: str
    resolved: bool
    title: str
    body: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    receiver: str
    group: str
    key: str  # the idempotency key: the same on every attempt of this message
    items: tuple[Item, ...]
    resent: bool  # an earlier attempt's outcome is unknown (it may have been delivered)

    @property
    def firing(self) -> list[Item]:
        return [i for i in self.items if not i.resolved]

    @property
    def resolved(self) -> list[Item]:
        return [i for i in self.items if i.resolved]


def _ordered(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (SEVERITY_ORDER.get(i.severity, 3), i.title))


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters, so data cannot mention @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(message: Message) -> str:
    parts = []
    if message.firing:
        parts.append(f"FIRING:{len(message.firing)}")
    if message.resolved:
        parts.append(f"RESOLVED:{len(message.resolved)}")
    return f"[{', '.join(parts)}] {message.group}"


def slack_payload(message: Message) -> dict[str, Any]:
    lines = [f"*{slack_escape(headline(message))}*"]
    if message.resent:
        lines.append("_sent again: an earlier attempt may have been delivered_")
    for item in _ordered(message.firing):
        icon = ICONS.get(item.severity, "")
        lines.append(f"{icon} *{slack_escape(item.title)}* ({item.severity}, {item.state})")
        lines.append(slack_escape(_shorten(item.body, SLACK_ITEM_CHARS)))
    for item in _ordered(message.resolved):
        lines.append(f":white_check_mark: *{slack_escape(item.title)}*")
        lines.append(slack_escape(_shorten(item.body, SLACK_ITEM_CHARS)))
    return {"text": "\n".join(lines), "mrkdwn": True}


def webhook_payload(message: Message, sent_at: datetime) -> dict[str, Any]:
    """Like Alertmanager's webhook: version, groupKey, status, alerts[], plus the key a
    receiver deduplicates on."""
    return {
        "version": "1",
        "idempotencyKey": message.key,
        "receiver": message.receiver,
        "groupKey": message.group,
        "status": "firing" if message.firing else "resolved",
        "resent": message.resent,
        "sentAt": sent_at.isoformat(timespec="seconds") + "Z",
        "alerts": [
            {
                "status": "resolved" if i.resolved else "firing",
                "kind": i.kind,
                "fingerprint": i.fingerprint,
                "dedupKey": i.dedup_key,
                "severity": i.severity,
                "state": i.state,
                "title": i.title,
                "body": i.body,
                "labels": i.labels,
            }
            for i in _ordered(message.items)
        ],
    }
