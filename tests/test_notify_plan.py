"""The pure planning rules: routes, inhibition, silences, repeats and resolved messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobs.notify.config import parse
from jobs.notify.model import Alert, Kind, Severity
from jobs.notify.plan import LastSaid, plan

NOW = datetime(2026, 11, 20, 12, 0)
CONFIG = """\
settings: {send_resolved: false}
receivers:
  chat: {type: slack, env: SLACK_WEBHOOK_URL}
  pager: {type: webhook, env: PAGER_URL}
  issues: {type: github-issues, env: GITHUB_TOKEN}
routes:
  - receiver: issues
    continue: true
  - receiver: pager
    match: {severity: critical, account: Vercel}
  - receiver: chat
silences:
  - match: {series: VERCEL_KV/OPERATIONS}
    expires: 2026-11-20T12:00:00Z
    reason: ended exactly now
"""
ALL = {"chat", "pager", "issues"}


def alert(kind: Kind, fp: str, state: str, severity: Severity, **labels: str) -> Alert:
    return Alert(kind, fp, state, severity, "Vercel", f"{fp} {state}", labels=labels)


def said(receiver: str, fp: str, state: str, at: datetime = NOW) -> LastSaid:
    return LastSaid(
        id=f"{receiver}-{fp}",
        receiver=receiver,
        fingerprint=fp,
        group="Vercel",
        kind="series",
        severity="warning",
        state=state,
        digest="",
        resolved=False,
        title=f"{fp} {state}",
        planned_at=at,
    )


def test_the_first_matching_route_wins_unless_it_continues() -> None:
    config = parse(CONFIG, "n.yaml")
    alerts = [
        alert(Kind.SERIES, "series:A", "CRITICAL", Severity.CRITICAL, series="A"),
        alert(Kind.SERIES, "series:B", "WARNING", Severity.WARNING, series="B"),
    ]
    planned = plan(alerts, config, {}, ALL, NOW)
    # The issue receiver takes only recommendations; the pager stops the critical one.
    assert sorted((p.receiver, p.fingerprint) for p in planned) == [
        ("chat", "series:B"),
        ("pager", "series:A"),
    ]
    assert plan(alerts, config, {}, {"chat"}, NOW)[0].fingerprint == "series:B"


def test_inhibition_is_per_series() -> None:
    config = parse(CONFIG, "n.yaml")
    alerts = [
        alert(Kind.SERIES, "series:A", "CRITICAL", Severity.CRITICAL, series="A"),
        alert(Kind.FORECAST, "forecast:A", "band", Severity.WARNING, series="A"),
        alert(Kind.FORECAST, "forecast:B", "band", Severity.WARNING, series="B"),
    ]
    planned = {p.fingerprint for p in plan(alerts, config, {}, ALL, NOW)}
    assert planned == {"series:A", "forecast:B"}


def test_a_silence_ends_at_its_expiry() -> None:
    config = parse(CONFIG, "n.yaml")
    kv = alert(Kind.SERIES, "series:KV", "WARNING", Severity.WARNING, series="VERCEL_KV/OPERATIONS")
    assert plan([kv], config, {}, ALL, NOW - timedelta(seconds=1)) == []
    assert [p.fingerprint for p in plan([kv], config, {}, ALL, NOW)] == ["series:KV"]


def test_without_send_resolved_only_issues_are_closed() -> None:
    config = parse(CONFIG, "n.yaml")
    last = {
        ("chat", "series:B"): said("chat", "series:B", "WARNING"),
        ("issues", "recommendation:1"): said("issues", "recommendation:1", "PENDING/HIGH"),
    }
    planned = plan([], config, last, ALL, NOW, {"recommendation:1": "IMPLEMENTED by bob"})
    assert [(p.receiver, p.change, p.body) for p in planned] == [
        ("issues", "resolved", "Resolved: IMPLEMENTED by bob.")
    ]


def test_repeats_and_keys_follow_the_chain() -> None:
    config = parse(CONFIG, "n.yaml")
    b = alert(Kind.SERIES, "series:B", "WARNING", Severity.WARNING, series="B")
    last = {("chat", "series:B"): said("chat", "series:B", "WARNING", NOW - timedelta(hours=23))}
    assert plan([b], config, last, ALL, NOW) == []
    [repeat] = plan([b], config, last, ALL, NOW + timedelta(hours=1))
    assert repeat.change == "repeat"
    assert repeat.dedup_key == "series:B|WARNING|after:chat-series:B"
    # The same inputs always give the same key: that is what makes two runs agree.
    assert plan([b], config, last, ALL, NOW + timedelta(hours=1)) == [repeat]
