"""Which projects drive the bill and each meter this period (pure: usage rows in, records out).

Usage lines keep their project (FOCUS ``Tags.ProjectId``, "" for none) and its
``ProjectName``; ``jobs.usage.project_usage`` adds them up per service x metric x project
the way the period's usage adds up. Here they become, per account of limits.yaml, the cost
of each project with its share of the account's cost, and per limited meter the projects
using most of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobs.limits.model import LimitsFile
from jobs.model import AGGREGATION
from jobs.recommend.budget import COST_METRIC
from jobs.usage import ProjectUsage

NO_PROJECT = "(no project)"
TOP_PROJECTS = 3  # projects named per meter; the rest are added up in one line


@dataclass(frozen=True)
class ProjectShare:
    """A project's part of an account's cost or of a meter's usage."""

    label: str  # its ProjectName, else its id, else NO_PROJECT (or "N other projects")
    value: float  # cost (EffectiveCost, USD) or usage in the meter's canonical unit
    billed: float | None  # costs only: the billed cost (BilledCost)
    share: float | None  # of the whole; None when the whole is 0 or parts do not add up


@dataclass(frozen=True)
class AccountCosts:
    account: str
    total: float  # EffectiveCost of the account's services this period
    billed: float
    projects: tuple[ProjectShare, ...]  # costliest first; they add up to the totals


@dataclass(frozen=True)
class MeterProjects:
    service: str
    metric_type: str
    top: tuple[ProjectShare, ...]  # most used first
    rest: ProjectShare | None  # the other projects together, if any


@dataclass
class _Part:
    names: set[str]
    value: float = 0.0
    billed: float = 0.0


def _parts(rows: Iterable[ProjectUsage]) -> dict[str, _Part]:
    """Rows per project id (a project may span services), with every name it was seen with."""
    parts: dict[str, _Part] = defaultdict(lambda: _Part(set()))
    for row in rows:
        part = parts[row.project]
        part.value += row.value
        part.billed += row.billed if row.billed is not None else row.value
        if row.project_name:
            part.names.add(row.project_name)
    return parts


def _label(project: str, part: _Part) -> str:
    return ", ".join(sorted(part.names)) or project or NO_PROJECT


def _share(value: float, whole: float) -> float | None:
    return value / whole if whole > 0 else None


def _ranked(parts: dict[str, _Part]) -> list[tuple[str, _Part]]:
    return sorted(parts.items(), key=lambda item: (-item[1].value, _label(*item)))


def cost_per_project(limits: LimitsFile, usage: Iterable[ProjectUsage]) -> tuple[AccountCosts, ...]:
    """Per account with cost this period, in limits.yaml's order: each project's cost."""
    costs = [row for row in usage if row.metric_type == COST_METRIC]
    out = []
    for account in limits.accounts:
        services = {s.service for s in limits.account_services(account.name)}
        parts = _parts(row for row in costs if row.service in services)
        if not parts:
            continue
        total = sum(part.value for part in parts.values())
        billed = sum(part.billed for part in parts.values())
        projects = tuple(
            ProjectShare(_label(project, part), part.value, part.billed, _share(part.value, total))
            for project, part in _ranked(parts)
        )
        out.append(AccountCosts(account.name, total, billed, projects))
    return tuple(out)


def top_projects(
    meters: Sequence[tuple[str, str]], usage: Iterable[ProjectUsage], top: int = TOP_PROJECTS
) -> tuple[MeterProjects, ...]:
    """Per meter (service, metric type) in the order given, the ``top`` projects using
    most of it this period; meters whose usage names no project are left out."""
    by_meter: dict[tuple[str, str], list[ProjectUsage]] = defaultdict(list)
    for row in usage:
        by_meter[(row.service, row.metric_type)].append(row)
    out = []
    for service, metric in meters:
        rows = by_meter.get((service, metric), [])
        if not any(row.project for row in rows):
            continue
        # Projects' usage adds up to the meter's, except for a maximum (latency).
        adds_up = AGGREGATION[metric].across_sources == "sum"
        ranked = _ranked(_parts(rows))
        whole = sum(part.value for _, part in ranked) if adds_up else 0.0
        shares = [
            ProjectShare(_label(project, part), part.value, None, _share(part.value, whole))
            for project, part in ranked
        ]
        others = shares[top:]
        rest = None
        if others:
            value = (sum if adds_up else max)(s.value for s in others)
            label = f"{len(others)} other project" + ("s" if len(others) > 1 else "")
            rest = ProjectShare(label, value, None, _share(value, whole))
        out.append(MeterProjects(service, metric, tuple(shares[:top]), rest))
    return tuple(out)
