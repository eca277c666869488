"""What holds now, as alerts: from the stored assessments, the sources' watermarks, the
open recommendations and the budget forecasts. Pure: records in, alerts out.

Each alert has a fingerprint (the same thing across runs) and a state (a new state is a
transition worth telling). The group of an alert is its account: the account a
recommendation or budget names, else the vendor of the service's active plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from jobs.assessments import StoredAssessment
from jobs.limits.quantities import approximate
from jobs.notify.model import Alert, Kind, Settings, Severity
from jobs.notify.recommendations import RecommendationView
from jobs.recommend.budget import BudgetOutlook
from jobs.recommend.evaluation import State
from jobs.status.checks import SourceState

COLLECTION_GROUP = "collection"  # the group of alerts about collection itself
SERIES_SEVERITY = {
    State.CRITICAL: Severity.CRITICAL,
    State.WARNING: Severity.WARNING,
    State.NO_DATA: Severity.INFO,
}
PRIORITY_SEVERITY = {"CRITICAL": Severity.CRITICAL, "HIGH": Severity.WARNING}
# Sources are named "<vendor stream>" or "<vendor>:<id>" by collect.
SOURCE_VENDORS = {"vercel": "Vercel", "neon": "Neon", "upstash": "Upstash"}


@dataclass(frozen=True)
class Inputs:
    now: datetime  # naive UTC
    assessments: Sequence[StoredAssessment]
    sources: Sequence[SourceState]
    recommendations: Sequence[RecommendationView]
    budgets: Sequence[BudgetOutlook]
    account_of: Callable[[str], str]  # service (or a source's vendor) -> account
    is_hard: Callable[[str, str, str], bool]  # (service, metric, plan) -> pauses at the limit


def _when(moment: datetime | None) -> str:
    return "n/a" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _amount(value: float | None, metric_type: str) -> str:
    return "n/a" if value is None else approximate(value, metric_type)


def series_alerts(inputs: Inputs) -> Iterable[Alert]:
    for a in inputs.assessments:
        if a.state is State.OK:
            continue
        series = f"{a.service}/{a.metric_type}"
        use = "" if a.utilisation is None else f" at {a.utilisation:.0%} of the limit"
        body = (
            f"{series} is {a.state.value}{use} on {a.plan}: "
            f"{_amount(a.usage, a.metric_type)} of {_amount(a.limit, a.metric_type)}, "
            f"since {_when(a.state_since)}; data through {_when(a.data_through)}."
        )
        if a.forecast_mean is not None:
            body += (
                f" Forecast at period end {_amount(a.forecast_mean, a.metric_type)} "
                f"(80 % band up to {_amount(a.forecast_upper, a.metric_type)})."
            )
        yield Alert(
            kind=Kind.SERIES,
            fingerprint=f"series:{series}",
            state=a.state.value,
            severity=SERIES_SEVERITY[a.state],
            account=inputs.account_of(a.service),
            title=f"{series} {a.state.value}",
            body=body,
            labels={"service": a.service, "series": series},
        )


def forecast_alerts(inputs: Inputs, settings: Settings) -> Iterable[Alert]:
    """A hard limit the forecast reaches within the horizon: at the mean (critical) or
    only at the 80 % band's upper edge (warning)."""
    horizon = inputs.now + settings.forecast_horizon
    for a in inputs.assessments:
        if not inputs.is_hard(a.service, a.metric_type, a.plan):
            continue
        if a.breach_at is not None and a.breach_at <= horizon:
            state, severity, at = "mean", Severity.CRITICAL, a.breach_at
        elif a.breach_at_upper is not None and a.breach_at_upper <= horizon:
            state, severity, at = "band", Severity.WARNING, a.breach_at_upper
        else:
            continue
        series = f"{a.service}/{a.metric_type}"
        edge = "the forecast" if state == "mean" else "the forecast's 80 % band edge"
        yield Alert(
            kind=Kind.FORECAST,
            fingerprint=f"forecast:{series}",
            state=state,
            severity=severity,
            account=inputs.account_of(a.service),
            title=f"{series} may pause around {at:%Y-%m-%d}",
            body=(
                f"{edge.capitalize()} reaches the hard limit of {series} on {a.plan} "
                f"({_amount(a.limit, a.metric_type)}) around {_when(at)}, within "
                f"{settings.forecast_horizon.days} days; usage {_amount(a.usage, a.metric_type)}, "
                f"forecast at period end {_amount(a.forecast_mean, a.metric_type)} "
                f"(band {_amount(a.forecast_lower, a.metric_type)} .. "
                f"{_amount(a.forecast_upper, a.metric_type)})."
            ),
            labels={"service": a.service, "series": series},
        )


# The budget's state (``jobs.recommend.budget``, the rule `recommend` and `status` use too)
# as an alert: money spent over it, the forecast's mean over it, or only its band's edge.
_BUDGET_ALERTS = {
    "over": (Severity.CRITICAL, "is over"),
    "forecast-over": (Severity.CRITICAL, "is forecast over"),
    "may-exceed": (Severity.WARNING, "may exceed"),
}


def budget_alerts(inputs: Inputs) -> Iterable[Alert]:
    for b in inputs.budgets:
        if b.state is State.OK:
            continue
        limit = b.budget.monthly_usd
        if b.spent >= limit:
            state = "over"
        else:
            state = "forecast-over" if b.state is State.CRITICAL else "may-exceed"
        severity, verb = _BUDGET_ALERTS[state]
        yield Alert(
            kind=Kind.BUDGET,
            fingerprint=f"budget:{b.budget.label}",
            state=state,
            severity=severity,
            account=b.budget.account,
            title=f"budget {b.budget.label} {verb} ${limit:,.2f}",
            body=(
                f"Spent ${b.spent:,.2f} of a ${limit:,.2f} budget; forecast at period end "
                f"${b.mean:,.2f} (80 % band ${b.lower:,.2f} to ${b.upper:,.2f})."
            ),
        )


def recommendation_alerts(inputs: Inputs) -> Iterable[Alert]:
    for r in inputs.recommendations:
        if not r.is_open:
            continue
        yield Alert(
            kind=Kind.RECOMMENDATION,
            fingerprint=f"recommendation:{r.id}",
            state=f"{r.status}/{r.priority}",
            severity=PRIORITY_SEVERITY.get(r.priority, Severity.INFO),
            account=r.account,
            title=f"[{r.priority}] {r.title}",
            body=r.evidence_markdown,
            labels={"service": r.service, "recommendation": r.id},
            digest=r.digest,
        )


def source_vendor(source: str) -> str:
    head = source.split(":", 1)[0].split("-", 1)[0]
    return SOURCE_VENDORS.get(head, COLLECTION_GROUP)


def source_alerts(inputs: Inputs, settings: Settings) -> Iterable[Alert]:
    for s in inputs.sources:
        error = f" Last error at {_when(s.last_error_at)}: {s.last_error}" if s.last_error else ""
        if s.last_success_at is None or inputs.now - s.last_success_at > settings.stale_after:
            state, severity = "stale", Severity.CRITICAL
            title = f"source {s.source} is stale"
            body = f"No success since {_when(s.last_success_at)}.{error}"
        elif s.last_error_at is not None and s.last_error_at > s.last_success_at:
            state, severity = "failing", Severity.WARNING
            title = f"source {s.source} is failing"
            body = f"Last success {_when(s.last_success_at)}.{error}"
        else:
            continue
        yield Alert(
            kind=Kind.SOURCE,
            fingerprint=f"source:{s.source}",
            state=state,
            severity=severity,
            account=inputs.account_of(source_vendor(s.source)),
            title=title,
            body=body,
            labels={"source": s.source},
        )


def deadman_alerts(inputs: Inputs, settings: Settings) -> Iterable[Alert]:
    """No source succeeded for ``deadman_after`` (only once a source has been set up:
    without any watermark there is nothing to compare with)."""
    if not inputs.sources:
        return
    successes = [s.last_success_at for s in inputs.sources if s.last_success_at is not None]
    since = max(successes) if successes else min(s.last_attempt_at for s in inputs.sources)
    if inputs.now - since <= settings.deadman_after:
        return
    hours = (inputs.now - since).total_seconds() / 3600
    threshold = settings.deadman_after.total_seconds() / 3600
    yield Alert(
        kind=Kind.DEADMAN,
        fingerprint="deadman:collection",
        state="silent",
        severity=Severity.CRITICAL,
        account=COLLECTION_GROUP,
        title="no collection has succeeded",
        body=(
            f"The last successful collection was {_when(max(successes) if successes else None)} "
            f"({hours:.1f} h ago; alert after {threshold:g} h). "
            "Check the collect workflow's runs and the sources' credentials."
        ),
    )


def all_alerts(inputs: Inputs, settings: Settings) -> list[Alert]:
    return [
        *series_alerts(inputs),
        *forecast_alerts(inputs, settings),
        *budget_alerts(inputs),
        *recommendation_alerts(inputs),
        *source_alerts(inputs, settings),
        *deadman_alerts(inputs, settings),
    ]
