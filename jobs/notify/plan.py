"""Alertmanager's discipline, pure: which notifications the alerts of this run call for.

1. **Inhibition**: a critical alert silences the warning and info alerts of the same
   series (a CRITICAL series needs no "may breach" forecast next to it).
2. **Silences**: an alert matched by a silence that has not expired is not sent.
3. **Routes**: in order, the first matching route takes the alert unless it says
   ``continue``; an alert no route takes is not sent. An issue receiver takes only
   recommendations.
4. **Transitions**: compared with what was last said to the receiver about the same
   fingerprint: a new alert, a new state (or, for issue receivers, new numbers), a repeat
   once ``repeat_interval`` has passed, and a resolved notification when an alert that was
   announced no longer holds at all.

Every notification's ``dedup_key`` names the alert, the new state and the notification it
follows, so two runs that see the same log compute the same key, and the log's unique
index keeps one row: that is what makes a transition notified once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jobs.notify.model import (
    Alert,
    Kind,
    NotifyConfig,
    Receiver,
    ReceiverType,
    Severity,
    matches,
)

RESOLVED = "resolved"


@dataclass(frozen=True)
class LastSaid:
    """The latest notification recorded for one receiver and fingerprint."""

    id: str
    receiver: str
    fingerprint: str
    group: str
    kind: str
    severity: str
    state: str
    digest: str
    resolved: bool
    title: str
    planned_at: datetime


@dataclass(frozen=True)
class Planned:
    receiver: str
    group: str
    fingerprint: str
    dedup_key: str
    kind: str
    severity: str
    state: str
    digest: str
    resolved: bool
    title: str
    body: str
    labels: Mapping[str, str] = field(default_factory=dict)
    change: str = "new"  # new | changed | repeat | resolved


def inhibit(alerts: Sequence[Alert]) -> list[Alert]:
    critical_series = {
        a.labels["series"]
        for a in alerts
        if a.severity is Severity.CRITICAL and a.labels.get("series")
    }
    return [
        a
        for a in alerts
        if a.severity is Severity.CRITICAL or a.labels.get("series") not in critical_series
    ]


def receivers_for(alert: Alert, config: NotifyConfig, enabled: set[str]) -> list[Receiver]:
    chosen: list[Receiver] = []
    for route in config.routes:
        if not matches(route.match, alert):
            continue
        receiver = config.receiver(route.receiver)
        takes = alert.kind is Kind.RECOMMENDATION or receiver.type is not ReceiverType.GITHUB_ISSUES
        if receiver.name in enabled and takes and receiver not in chosen:
            chosen.append(receiver)
        if not route.proceed:
            break
    return chosen


def _key(fingerprint: str, state: str, after: LastSaid | None) -> str:
    return f"{fingerprint}|{state}|after:{after.id if after else '-'}"


def plan(
    alerts: Sequence[Alert],
    config: NotifyConfig,
    last_said: Mapping[tuple[str, str], LastSaid],
    enabled: set[str],
    now: datetime,
    ended: Mapping[str, str] | None = None,
) -> list[Planned]:
    """The notifications to record. ``last_said`` is keyed by (receiver, fingerprint);
    ``ended`` says why an alert that no longer holds ended (a closed recommendation)."""
    settings = config.settings
    firing = {a.fingerprint for a in alerts}
    active = [a for a in inhibit(alerts) if not any(s.silences(a, now) for s in config.silences)]
    out: list[Planned] = []
    for alert in active:
        for receiver in receivers_for(alert, config, enabled):
            last = last_said.get((receiver.name, alert.fingerprint))
            if last is None or last.resolved:
                change = "new"
            elif last.state != alert.state or (
                receiver.tracks_digest and last.digest != alert.digest
            ):
                change = "changed"
            elif not receiver.tracks_digest and now - last.planned_at >= settings.repeat_interval:
                change = "repeat"
            else:
                continue
            out.append(
                Planned(
                    receiver=receiver.name,
                    group=alert.account,
                    fingerprint=alert.fingerprint,
                    dedup_key=_key(alert.fingerprint, alert.state, last),
                    kind=alert.kind.value,
                    severity=alert.severity.value,
                    state=alert.state,
                    digest=alert.digest,
                    resolved=False,
                    title=alert.title,
                    body=alert.body,
                    labels=dict(alert.labels),
                    change=change,
                )
            )
    for (receiver_name, fingerprint), last in sorted(last_said.items()):
        if last.resolved or fingerprint in firing or receiver_name not in enabled:
            continue
        receiver = config.receiver(receiver_name)  # enabled receivers are defined ones
        # Issues must close whatever the setting; chat receivers follow send_resolved.
        if not settings.send_resolved and not receiver.tracks_digest:
            continue
        why = (ended or {}).get(fingerprint, "the condition no longer holds")
        out.append(
            Planned(
                receiver=receiver_name,
                group=last.group,
                fingerprint=fingerprint,
                dedup_key=_key(fingerprint, RESOLVED, last),
                kind=last.kind,
                severity=last.severity,
                state=RESOLVED,
                digest="",
                resolved=True,
                title=last.title,
                body=f"Resolved: {why}.",
                change="resolved",
            )
        )
    return out
