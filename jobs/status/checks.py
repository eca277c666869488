"""The verdict of ``python -m jobs status``: what was found in, checks and problems out.

Pure: ``judge`` turns the findings (read by ``jobs.status.read``) into one check per line,
each ``ok``, ``warn`` or ``FAIL``. The deployment is healthy when no check fails:

- FAIL: an object missing or not matching ``sql/``; ``InfrastructureLimit`` not matching
  the limits file; a source whose last success is older than the stale threshold (or that
  never succeeded); a service x metric in CRITICAL; a section that could not be read.
- warn (reported, not failing): WARNING and NO_DATA series, no assessment this period yet,
  no API source collected yet, a source whose last attempt failed but whose last success is
  still recent, a last collection run that failed, a section skipped because its table is
  missing (the schema check already fails for it), a plan paid for that limits.yaml does
  not name, an upgrade limits.yaml names that the bill does not show yet.

The advice (what to run to fix the schema or the limits) comes in with the findings: it
depends on where the command runs, which ``jobs.settings`` knows.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobs.assessments import StoredAssessment
from jobs.limits.quantities import approximate, describe
from jobs.recommend.evaluation import State
from jobs.recommend.money import NO_MONEY, Money
from jobs.recommend.records import AwaitingBill
from jobs.usage import BillingPeriod

SHOWN_KEYS = 3  # limit keys named per kind of difference before "and N more"


class Level(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    area: str  # schema | limits | sources | collection | services
    level: Level
    message: str

    @property
    def line(self) -> str:
        return f"{self.area}: {self.message}"


@dataclass(frozen=True)
class Unavailable:
    """A section that could not be read: its table is missing, or reading it failed."""

    reason: str
    error: bool  # True: reading failed (a problem of its own); False: the table is missing


@dataclass(frozen=True)
class ObjectState:
    name: str
    kind: str  # enum | table
    exists: bool
    changes: tuple[str, ...] = ()  # what `schema up` would change, as jobs.schema describes it
    error: str | None = None  # the name is taken by something else, or similar

    @property
    def state(self) -> str:
        if self.error:
            return "error"
        if not self.exists:
            return "missing"
        return "differs" if self.changes else "ok"


@dataclass(frozen=True)
class LimitsState:
    file: str
    rows_by_plan: dict[str, int]  # rows of InfrastructureLimit per plan
    file_rows: int
    added: tuple[str, ...] = ()  # keys (service/metric/plan) in the file, not in the table
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # in the table, not in the file

    @property
    def rows(self) -> int:
        return sum(self.rows_by_plan.values())

    @property
    def matches(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True)
class SourceState:
    source: str
    collected_through: datetime | None
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    last_note: str | None = None  # what the last successful run had to say


@dataclass(frozen=True)
class RunState:
    started_at: datetime
    finished_at: datetime
    status: str  # ok | failed
    trigger: str  # api | file
    rows_written: int


@dataclass(frozen=True)
class Delivery:
    """One message of ``notify`` that was not delivered."""

    receiver: str
    group: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class NotificationsState:
    """What ``notify`` delivered lately (``NOTIFICATIONS_WINDOW``)."""

    sent: int
    last_sent_at: datetime | None
    failing: tuple[Delivery, ...]  # to be retried by the next run
    abandoned: tuple[Delivery, ...]  # given up after the configured attempts: lost


NOTIFICATIONS_WINDOW = timedelta(hours=24)
# A role name SQL reads as written (otherwise it is quoted in the advice).
PLAIN_ROLE = re.compile(r"[a-z_][a-z0-9_$]*")


def _sql_name(name: str) -> str:
    """``name`` as SQL reads it, for advice people paste: plain, or double-quoted."""
    if PLAIN_ROLE.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RoleDefaults:
    """Session defaults a role that runs the jobs (one that may execute ``merge_metrics``)
    holds for this database, other than its search_path. The jobs override them on every
    connection; behind a transaction pooler they can still apply (docs/security.md), and
    nothing the jobs do sets them: whoever holds the role's credential did."""

    role: str
    settings: tuple[str, ...]  # "name=value"

    @property
    def message(self) -> str:
        names = [s.split("=", 1)[0] for s in self.settings]
        resets = "; ".join(f"ALTER ROLE {_sql_name(self.role)} RESET {n}" for n in names)
        return (
            f"role {self.role} has session defaults set on itself: {', '.join(self.settings)}; "
            "the jobs override them on a direct connection, not behind a transaction pooler, "
            f"and they may mean its credential leaked: as the owner, {resets}"
        )


@dataclass(frozen=True)
class Advice:
    """What to run to fix the schema and the limits, where ``status`` runs (CI, the embedded
    server, a DATABASE_URL): ``jobs.settings`` says."""

    schema: str
    limits: str


@dataclass(frozen=True)
class Findings:
    checked_at: datetime  # naive UTC
    period: BillingPeriod
    objects: tuple[ObjectState, ...]
    limits: LimitsState | Unavailable
    sources: tuple[SourceState, ...] | Unavailable
    last_run: RunState | Unavailable | None
    assessments: tuple[StoredAssessment, ...] | Unavailable
    notifications: NotificationsState | Unavailable | None = None  # None: not read
    money: Money | Unavailable = NO_MONEY
    awaiting: tuple[AwaitingBill, ...] | Unavailable = ()  # upgrades waiting for the bill
    role_defaults: tuple[RoleDefaults, ...] | Unavailable = ()


@dataclass(frozen=True)
class Verdict:
    findings: Findings
    stale_after: timedelta
    checks: tuple[Check, ...] = field(default=())

    @property
    def problems(self) -> list[str]:
        return [c.line for c in self.checks if c.level is Level.FAIL]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.healthy else 1


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def age(delta: timedelta) -> str:
    """How long ago, in the unit people read best: 15 min, 13.0 h, 3.2 days."""
    seconds = delta.total_seconds()
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"


def _unavailable(area: str, section: Unavailable) -> Check:
    if section.error:
        return Check(area, Level.FAIL, f"cannot be checked: {section.reason}")
    return Check(area, Level.WARN, f"not checked: {section.reason}")


def _schema(objects: tuple[ObjectState, ...], advice: str) -> list[Check]:
    checks = []
    for obj in objects:
        label = f'{obj.kind} "{obj.name}"'
        if obj.error:
            checks.append(Check("schema", Level.FAIL, f"{label}: {obj.error}"))
        elif not obj.exists:
            checks.append(Check("schema", Level.FAIL, f"{label} is missing ({advice})"))
        elif obj.changes:
            # Descriptions start with the object's label; say it once.
            what = "; ".join(c.removeprefix(f"{label}: ") for c in obj.changes)
            checks.append(
                Check(
                    "schema",
                    Level.FAIL,
                    f"{label} differs from sql/deploy/{obj.name}.sql: {what}",
                )
            )
    good = len(objects) - len(checks)
    summary = Check("schema", Level.OK, f"{good} of {len(objects)} objects exist and match sql/")
    return [summary, *checks]


def _keys(kind: str, keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{len(keys)} {kind} ({shown}{more})"


def _limits(limits: LimitsState | Unavailable, advice: str) -> list[Check]:
    if isinstance(limits, Unavailable):
        return [_unavailable("limits", limits)]
    plans = ", ".join(f"{plan} {count}" for plan, count in limits.rows_by_plan.items())
    loaded = f"{limits.rows} rows in InfrastructureLimit for {len(limits.rows_by_plan)} plans"
    if plans:
        loaded += f" ({plans})"
    if limits.matches:
        return [Check("limits", Level.OK, f"{loaded}, matching {limits.file}")]
    parts = [
        _keys(kind, keys)
        for kind, keys in (
            ("missing", limits.added),
            ("different", limits.changed),
            ("not in the file", limits.removed),
        )
        if keys
    ]
    return [
        Check("limits", Level.OK if limits.rows else Level.WARN, loaded),
        Check(
            "limits",
            Level.FAIL,
            f"InfrastructureLimit does not match {limits.file} ({limits.file_rows} rows): "
            + "; ".join(parts)
            + f" ({advice}; `python -m jobs limits diff` shows each change)",
        ),
    ]


def _source(source: SourceState, now: datetime, stale_after: timedelta) -> Check:
    subject = f"source {source.source}"
    failed = (
        f"; last error at {when(source.last_error_at)}: {source.last_error}"
        if source.last_error and source.last_error_at
        else ""
    )
    if source.last_success_at is None:
        return Check("sources", Level.FAIL, f"{subject} never collected successfully{failed}")
    since = now - source.last_success_at
    success = f"last success {when(source.last_success_at)} ({age(since)} ago)"
    if since > stale_after:
        return Check(
            "sources",
            Level.FAIL,
            f"{subject} is stale: {success}, stale after {_hours(stale_after)}{failed}",
        )
    through = f", collected through {when(source.collected_through)}"
    if source.last_note:
        through += f"; {source.last_note}"
    if source.last_error_at and source.last_error_at > source.last_success_at:
        return Check("sources", Level.WARN, f"{subject}: {success}{through}{failed}")
    return Check("sources", Level.OK, f"{subject}: {success}{through}")


def _sources(
    sources: tuple[SourceState, ...] | Unavailable, now: datetime, stale_after: timedelta
) -> list[Check]:
    if isinstance(sources, Unavailable):
        return [_unavailable("sources", sources)]
    if not sources:
        return [
            Check(
                "sources",
                Level.WARN,
                "no API source has collected yet (file imports keep no watermark)",
            )
        ]
    return [_source(source, now, stale_after) for source in sources]


def _last_run(run: RunState | Unavailable | None) -> list[Check]:
    if isinstance(run, Unavailable):
        return [_unavailable("collection", run)]
    if run is None:
        return [Check("collection", Level.WARN, "no collection run recorded yet")]
    kind = "file import" if run.trigger == "file" else "API run"
    text = f"last run {when(run.started_at)} ({kind}): {run.status}, {run.rows_written} rows"
    return [Check("collection", Level.OK if run.status == "ok" else Level.WARN, text)]


def _series(a: StoredAssessment) -> str:
    text = f"{a.service}/{a.metric_type} {a.state}"
    if a.usage is not None and a.utilisation is not None:
        text += (
            f" at {a.utilisation:.0%} of {describe(a.limit, a.metric_type)} on {a.plan}"
            f" ({approximate(a.usage, a.metric_type)})"
        )
    if a.state_since:
        text += f" since {when(a.state_since)}"
    if a.breach_at and (a.usage is None or a.usage < a.limit):
        text += f"; the forecast reaches the limit around {when(a.breach_at)}"
    return text


def _services(assessments: tuple[StoredAssessment, ...] | Unavailable) -> list[Check]:
    if isinstance(assessments, Unavailable):
        return [_unavailable("services", assessments)]
    if not assessments:
        return [
            Check(
                "services",
                Level.WARN,
                "no assessment for this billing period yet (run python -m jobs recommend)",
            )
        ]
    counts = Counter(a.state for a in assessments)
    latest = max(a.evaluated_at for a in assessments)
    tally = ", ".join(f"{counts[s]} {s}" for s in State if counts[s])
    checks = [
        Check(
            "services",
            Level.OK,
            f"{len(assessments)} series assessed, latest {when(latest)}: {tally}",
        )
    ]
    for state, level in ((State.CRITICAL, Level.FAIL), (State.WARNING, Level.WARN)):
        checks += [Check("services", level, _series(a)) for a in assessments if a.state is state]
    # NO_DATA often hits every metric of a service nobody collects yet: one line per service.
    silent: dict[str, list[str]] = {}
    for a in assessments:
        if a.state is State.NO_DATA:
            since = f" (no data since {when(a.data_through)})" if a.data_through else ""
            silent.setdefault(a.service, []).append(a.metric_type + since)
    checks += [
        Check("services", Level.WARN, f"{service} NO_DATA: {', '.join(metrics)}")
        for service, metrics in silent.items()
    ]
    return checks


def _delivery(d: Delivery) -> str:
    error = f": {d.last_error}" if d.last_error else ""
    return f"{d.receiver} ({d.group}) after {d.attempts} attempt{'s' * (d.attempts > 1)}{error}"


def _notifications(state: NotificationsState | Unavailable | None) -> list[Check]:
    """A message given up is a lost notification: a problem. One still retried is not."""
    if state is None:
        return []
    if isinstance(state, Unavailable):
        return [_unavailable("notifications", state)]
    hours = f"{NOTIFICATIONS_WINDOW.total_seconds() / 3600:g} h"
    last = f", last {when(state.last_sent_at)}" if state.last_sent_at else ""
    checks = [Check("notifications", Level.OK, f"{state.sent} messages sent in {hours}{last}")]
    checks += [
        Check("notifications", Level.FAIL, f"gave up on a message to {_delivery(d)}")
        for d in state.abandoned
    ]
    checks += [
        Check("notifications", Level.WARN, f"retrying a message to {_delivery(d)}")
        for d in state.failing
    ]
    return checks


def _money(money: Money | Unavailable) -> list[Check]:
    """A plan paid for that limits.yaml does not name warns; so does a budget whose forecast
    reaches it (the band's edge: warn; the mean or money spent: FAIL, as CRITICAL)."""
    if isinstance(money, Unavailable):
        return [_unavailable("plans", money)]
    checks = [Check("plans", Level.WARN, m.message) for m in money.mismatches]
    level = {State.OK: Level.OK, State.WARNING: Level.WARN, State.CRITICAL: Level.FAIL}
    checks += [Check("budgets", level[b.state], b.message) for b in money.budgets]
    return checks


def _awaiting(awaiting: tuple[AwaitingBill, ...] | Unavailable) -> list[Check]:
    """An upgrade limits.yaml names that the bill does not show yet warns until it does."""
    if isinstance(awaiting, Unavailable):
        return [_unavailable("plans", awaiting)]
    return [Check("plans", Level.WARN, a.message) for a in awaiting]


def _roles(found: tuple[RoleDefaults, ...] | Unavailable) -> list[Check]:
    if isinstance(found, Unavailable):
        return [_unavailable("roles", found)]
    return [Check("roles", Level.WARN, d.message) for d in found]


def judge(findings: Findings, stale_after: timedelta, advice: Advice) -> Verdict:
    checks = [
        *_schema(findings.objects, advice.schema),
        *_limits(findings.limits, advice.limits),
        *_sources(findings.sources, findings.checked_at, stale_after),
        *_last_run(findings.last_run),
        *_services(findings.assessments),
        *_notifications(findings.notifications),
        *_money(findings.money),
        *_awaiting(findings.awaiting),
        *_roles(findings.role_defaults),
    ]
    return Verdict(findings, stale_after, tuple(checks))


def as_text(verdict: Verdict) -> str:
    f = verdict.findings
    problems = len(verdict.problems)
    head = "healthy" if verdict.healthy else f"UNHEALTHY, {problems} problem{'s' * (problems > 1)}"
    lines = [
        f"monitoring status at {when(f.checked_at)} "
        f"(billing period {f.period.start:%Y-%m-%d} .. {f.period.end:%Y-%m-%d}): {head}"
    ]
    lines += [f"{c.level.value:<5} {c.line}" for c in verdict.checks]
    return "\n".join(lines) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _section(value: Any, render: Any) -> Any:
    if isinstance(value, Unavailable):
        return {"unavailable": value.reason, "error": value.error}
    return render(value)


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "receiver": d.receiver,
        "group": d.group,
        "attempts": d.attempts,
        "lastError": d.last_error,
    }


def as_json(verdict: Verdict) -> dict[str, Any]:
    """The verdict for scripts; the keys are stable (docs/status-and-report.md)."""
    f = verdict.findings
    return {
        "healthy": verdict.healthy,
        "checkedAt": _iso(f.checked_at),
        "staleAfterHours": verdict.stale_after.total_seconds() / 3600,
        "period": {"start": _iso(f.period.start), "end": _iso(f.period.end)},
        "problems": verdict.problems,
        "checks": [
            {"area": c.area, "level": c.level.value, "message": c.message} for c in verdict.checks
        ],
        "schema": [
            {
                "name": o.name,
                "kind": o.kind,
                "state": o.state,
                "changes": list(o.changes),
                "error": o.error,
            }
            for o in f.objects
        ],
        "limits": _section(
            f.limits,
            lambda lim: {
                "file": lim.file,
                "rows": lim.rows,
                "plans": lim.rows_by_plan,
                "fileRows": lim.file_rows,
                "matchesFile": lim.matches,
                "missing": list(lim.added),
                "different": list(lim.changed),
                "notInFile": list(lim.removed),
            },
        ),
        "sources": _section(
            f.sources,
            lambda sources: [
                {
                    "source": s.source,
                    "level": _source(s, f.checked_at, verdict.stale_after).level.value,
                    "lastSuccessAt": _iso(s.last_success_at),
                    "lastAttemptAt": _iso(s.last_attempt_at),
                    "collectedThrough": _iso(s.collected_through),
                    "lastError": s.last_error,
                    "lastErrorAt": _iso(s.last_error_at),
                    "lastNote": s.last_note,
                }
                for s in sources
            ],
        ),
        "lastRun": _section(
            f.last_run,
            lambda run: (
                None
                if run is None
                else {
                    "startedAt": _iso(run.started_at),
                    "finishedAt": _iso(run.finished_at),
                    "status": run.status,
                    "trigger": run.trigger,
                    "rowsWritten": run.rows_written,
                }
            ),
        ),
        "services": _section(
            f.assessments,
            lambda assessments: [
                {
                    "service": a.service,
                    "metricType": a.metric_type,
                    "plan": a.plan,
                    "state": a.state.value,
                    "stateSince": _iso(a.state_since),
                    "usage": a.usage,
                    "limit": a.limit,
                    "unit": a.unit,
                    "utilisation": a.utilisation,
                    "forecastMean": a.forecast_mean,
                    "forecastLower": a.forecast_lower,
                    "forecastUpper": a.forecast_upper,
                    "breachAt": _iso(a.breach_at),
                    "dataThrough": _iso(a.data_through),
                    "evaluatedAt": _iso(a.evaluated_at),
                }
                for a in assessments
            ],
        ),
        "notifications": _section(
            f.notifications,
            lambda n: (
                None
                if n is None
                else {
                    "sent": n.sent,
                    "lastSentAt": _iso(n.last_sent_at),
                    "failing": [_delivery_json(d) for d in n.failing],
                    "abandoned": [_delivery_json(d) for d in n.abandoned],
                }
            ),
        ),
        "plans": _section(
            f.money,
            lambda m: [
                {
                    "account": x.account,
                    "filePlan": x.file_plan,
                    "paidPlan": x.paid_plan,
                    "purchase": x.purchase.service_name,
                }
                for x in m.mismatches
            ],
        ),
        "budgets": _section(
            f.money,
            lambda m: [
                {
                    "budget": b.budget.label,
                    "monthlyUsd": b.budget.monthly_usd,
                    "spent": b.spent,
                    "forecast": b.mean,
                    "lower": b.lower,
                    "upper": b.upper,
                    "state": b.state.value,
                }
                for b in m.budgets
            ],
        ),
    }
