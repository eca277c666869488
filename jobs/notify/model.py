"""The records of the notification pipeline. Pure values, no IO."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class Kind(enum.StrEnum):
    SERIES = "series"  # a service x metric changed state (OK, WARNING, CRITICAL, NO_DATA)
    FORECAST = "forecast"  # the forecast reaches a hard limit within the horizon
    BUDGET = "budget"  # the spend forecast exceeds an account's budget
    RECOMMENDATION = "recommendation"  # an upgrade recommendation opened or changed
    SOURCE = "source"  # a collection source failing or stale
    DEADMAN = "deadman"  # no collection succeeded for too long


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class ReceiverType(enum.StrEnum):
    SLACK = "slack"  # a Slack incoming webhook
    WEBHOOK = "webhook"  # any HTTP endpoint taking our JSON
    GITHUB_ISSUES = "github-issues"  # one issue per recommendation


# The labels routes and silences match on.
LABELS = ("kind", "severity", "account", "service", "series", "source")


@dataclass(frozen=True)
class Alert:
    """Something that holds now. ``fingerprint`` names it across runs; ``state`` is what a
    transition is about (a change of state is news); ``digest`` changes with its numbers."""

    kind: Kind
    fingerprint: str
    state: str
    severity: Severity
    account: str  # the group: one message per receiver and account per run
    title: str
    body: str = ""  # Markdown
    labels: Mapping[str, str] = field(default_factory=dict)
    digest: str = ""

    def label(self, name: str) -> str:
        if name == "kind":
            return self.kind.value
        if name == "severity":
            return self.severity.value
        if name == "account":
            return self.account
        return self.labels.get(name, "")


@dataclass(frozen=True)
class Receiver:
    name: str
    type: ReceiverType
    env: str  # the environment variable holding the URL or token
    line: int

    @property
    def tracks_digest(self) -> bool:
        """Issue receivers follow the numbers too (the issue is edited when they move)."""
        return self.type is ReceiverType.GITHUB_ISSUES


Matchers = Mapping[str, tuple[str, ...]]  # label -> allowed values (any of them)


def matches(matchers: Matchers, alert: Alert) -> bool:
    return all(alert.label(name) in values for name, values in matchers.items())


@dataclass(frozen=True)
class Route:
    receiver: str
    match: Matchers
    proceed: bool  # `continue: true`: later routes are tried as well


@dataclass(frozen=True)
class Silence:
    match: Matchers
    expires: datetime  # naive UTC
    reason: str
    by: str | None

    def silences(self, alert: Alert, now: datetime) -> bool:
        return now < self.expires and matches(self.match, alert)


@dataclass(frozen=True)
class Settings:
    repeat_interval: timedelta = timedelta(hours=24)  # say again what keeps firing
    forecast_horizon: timedelta = timedelta(days=7)  # a breach forecast this close alerts
    deadman_after: timedelta = timedelta(hours=6)  # no successful collection this long
    stale_after: timedelta = timedelta(hours=2)  # a source without success this long
    max_attempts: int = 5  # deliveries tried per notification before it is abandoned
    lease: timedelta = timedelta(minutes=10)  # a claimed delivery older than this is retried
    send_resolved: bool = True
    timeout_seconds: float = 10.0  # per HTTP request
    budget_seconds: float = 60.0  # all deliveries of one run


@dataclass(frozen=True)
class NotifyConfig:
    path: str
    settings: Settings
    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    silences: tuple[Silence, ...]

    def receiver(self, name: str) -> Receiver:
        return next(r for r in self.receivers if r.name == name)
