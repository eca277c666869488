"""One run of ``python -m jobs notify``: gather, plan, record, then deliver.

1. Gather what holds now from the database (assessments, sources, recommendations).
2. Under an advisory lock, compare with the log, record the new notifications and put
   them into messages (one per receiver and account); commit. Nothing is sent yet.
3. Deliver every message that is due: claim it (committed, with a lease), send it,
   record the outcome. A failed message is retried by later runs, up to ``max_attempts``
   in all; a run that crashed between sending and recording leaves its claim, and the
   first run after the lease resends the same message with the same idempotency key.

The run's deliveries stop once ``budget_seconds`` are spent; what is left stays due.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx
import psycopg

from jobs import assessments
from jobs.errors import ConfigError
from jobs.gitops.github import GitHub, GitHubSettings
from jobs.gitops.issues import IssueSender
from jobs.limits.model import LimitsFile
from jobs.notify import alerts, store
from jobs.notify.model import NotifyConfig, ReceiverType
from jobs.notify.plan import Planned, plan
from jobs.notify.recommendations import RecommendationView, view
from jobs.notify.senders import (
    Sender,
    SlackSender,
    WebhookSender,
    is_http_url,
    url_secrets,
)
from jobs.recommend import money
from jobs.recommend import store as recommend_store
from jobs.redact import scrub
from jobs.status.read import sources as read_sources
from jobs.usage import BillingPeriod

RECENTLY_CLOSED = timedelta(days=30)  # closed recommendations whose issue may be open


def account_resolver(limits: LimitsFile) -> Callable[[str], str]:
    """A service, or a vendor (a source's), -> the account (limits.yaml ``accounts``) it is
    billed under; a vendor with several accounts, or an unknown name, stays itself."""
    by_vendor: dict[str, list[str]] = {}
    for a in limits.accounts:
        by_vendor.setdefault(a.vendor, []).append(a.name)

    def account_of(name: str) -> str:
        settings = limits.service(name)
        if settings and settings.account:
            return settings.account
        accounts = by_vendor.get(name, [])
        return accounts[0] if len(accounts) == 1 else name

    return account_of


def hard_resolver(limits: LimitsFile) -> Callable[[str, str, str], bool]:
    def is_hard(service: str, metric: str, plan: str) -> bool:
        limit = limits.limit(service, metric, plan)
        return bool(limit and limit.is_hard)

    return is_hard


@dataclass(frozen=True)
class Gathered:
    inputs: alerts.Inputs
    ended: dict[str, str]  # fingerprint -> why it ended (closed recommendations)


def gather(
    conn: psycopg.Connection,
    limits: LimitsFile,
    now: datetime,
) -> Gathered:
    account_of = account_resolver(limits)
    views: list[RecommendationView] = [
        view(recommend_store.get_recommendation(conn, rid), account_of)
        for rid in store.recommendation_ids(conn, now - RECENTLY_CLOSED)
    ]
    inputs = alerts.Inputs(
        now=now,
        assessments=assessments.read_period(conn, BillingPeriod.containing(now), as_of=now),
        sources=read_sources(conn, now),
        recommendations=views,
        budgets=money.read(conn, limits, now).budgets,
        account_of=account_of,
        is_hard=hard_resolver(limits),
    )
    ended = {f"recommendation:{v.id}": v.ended_because or v.status for v in views if not v.is_open}
    return Gathered(inputs, ended)


@dataclass
class Result:
    planned: list[Planned] = field(default_factory=list)
    sent: int = 0
    failed: list[str] = field(default_factory=list)  # one line per failed message
    abandoned: int = 0
    left: int = 0  # due messages not tried because the run's budget was spent
    disabled: list[str] = field(default_factory=list)  # receivers without their secret

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _scrubbed(planned: Planned, secrets: list[str]) -> Planned:
    return replace(planned, title=scrub(planned.title, secrets), body=scrub(planned.body, secrets))


def decide(
    conn: psycopg.Connection,
    config: NotifyConfig,
    gathered: Gathered,
    enabled: set[str],
    now: datetime,
    secrets: list[str],
    *,
    record: bool,
) -> list[Planned]:
    """The new notifications; with ``record``, stored and grouped into messages."""
    alerts_now = alerts.all_alerts(gathered.inputs, config.settings)
    with conn.transaction():
        store.lock(conn)
        last = store.last_said(conn)
        planned = [
            _scrubbed(p, secrets)
            for p in plan(alerts_now, config, last, enabled, now, gathered.ended)
        ]
        if record:
            store.record(conn, planned, now)
            issues = {r.name for r in config.receivers if r.type is ReceiverType.GITHUB_ISSUES}
            store.assign_messages(conn, issues)
    return planned


def run(
    conn: psycopg.Connection,
    config: NotifyConfig,
    gathered: Gathered,
    senders: Mapping[str, Sender],
    now: datetime,
    secrets: list[str],
    clock: Callable[[], float] = time.monotonic,
) -> Result:
    """``conn`` must be in autocommit mode: each step commits on its own."""
    settings = config.settings
    result = Result(disabled=[r.name for r in config.receivers if r.name not in senders])
    result.planned = decide(conn, config, gathered, set(senders), now, secrets, record=True)
    started = clock()
    for due in store.due(conn, now):
        sender = senders.get(due.receiver)
        if sender is None:
            continue  # its secret is gone: the message waits until it is back
        if clock() - started > settings.budget_seconds:
            result.left += 1
            continue
        claimed = store.claim(conn, due, now, now + settings.lease)
        if claimed is None:
            continue  # another run is delivering it
        outcome = sender.send(claimed.message, now)
        if outcome.delivered:
            store.finish(conn, claimed, "sent", now)
            result.sent += 1
            continue
        error = scrub(outcome.error or "failed", secrets)
        give_up = claimed.attempts >= settings.max_attempts
        retry_at = now + timedelta(seconds=outcome.retry_after) if outcome.retry_after else None
        store.finish(conn, claimed, "abandoned" if give_up else "failed", now, error, retry_at)
        if give_up:
            result.abandoned += 1
        what = f"{due.receiver} ({claimed.message.group})"
        verdict = "gave up" if give_up else "will retry next run"
        result.failed.append(f"{what}: {error}; attempt {claimed.attempts}, {verdict}")
    return result


def build_senders(
    config: NotifyConfig, env: Mapping[str, str], client: httpx.Client, secrets: list[str]
) -> dict[str, Sender]:
    """A sender for every receiver whose secret is set."""
    senders: dict[str, Sender] = {}
    for receiver in config.receivers:
        secret = env.get(receiver.env, "").strip()
        if not secret:
            continue
        if receiver.type in (ReceiverType.SLACK, ReceiverType.WEBHOOK) and not is_http_url(secret):
            raise ConfigError(
                f"{receiver.env} (receiver {receiver.name} in {config.path}) must be an http(s) URL"
            )
        if receiver.type is ReceiverType.SLACK:
            senders[receiver.name] = SlackSender(client, secret, secrets, time.time)
        elif receiver.type is ReceiverType.WEBHOOK:
            senders[receiver.name] = WebhookSender(client, secret, secrets, time.time)
        else:
            github = GitHub(client, GitHubSettings.from_env(env, receiver.env))
            senders[receiver.name] = IssueSender(github)
    return senders


def receiver_secrets(config: NotifyConfig, env: Mapping[str, str]) -> list[str]:
    """The values of the variables the receivers name (URLs with their paths, tokens)."""
    found: list[str] = []
    for receiver in config.receivers:
        value = env.get(receiver.env, "").strip()
        if value:
            found += url_secrets(value) if "://" in value else [value]
    return found
