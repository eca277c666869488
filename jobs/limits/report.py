"""``limits diff`` as text for a terminal or markdown for a pull-request comment.

Pure rendering; the same input always gives the same output, and "no changes" is one short
fixed paragraph so a PR comment does not churn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobs.limits.changes import Action, FieldChange, Impact, RowChange
from jobs.limits.model import LimitRow, key_label
from jobs.limits.quantities import describe, describe_price, number
from jobs.recommend.evaluation import State, utilisation
from jobs.text import markdown as escape_markdown
from jobs.usage import BillingPeriod


@dataclass(frozen=True)
class DiffReport:
    file: str
    table: str  # schema-qualified, for the heading
    changes: Sequence[RowChange]
    impacts: Sequence[Impact]
    unchanged: int
    period: BillingPeriod

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def summary(self) -> str:
        parts = [f"{self.count(a)} {a.value}" for a in Action if self.count(a)]
        return ", ".join(parts) if parts else "no changes"


def _value(column: str, value: Any, metric: str) -> str:
    if value is None:
        return "none"
    if column in ("limitValue", "includedAmount"):
        return describe(value, metric)
    if column == "overageUnitPrice":
        return describe_price(value, metric)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return number(value)
    return str(value)


def _row(row: LimitRow) -> str:
    """An added or removed row in one line."""
    text = f"limit {describe(row.limit_value, row.metric_type)}"
    if row.is_hard:
        text += " (hard)"
    text += f", warning {number(row.warning)}, critical {number(row.critical)}"
    if row.overage_unit_price:
        text += f", overage {describe_price(row.overage_unit_price, row.metric_type)}"
    return text


def _fields(fields: Sequence[FieldChange], metric: str) -> str:
    return "; ".join(
        f"{f.column} {_value(f.column, f.old, metric)} → {_value(f.column, f.new, metric)}"
        for f in fields
    )


def describe_change(change: RowChange) -> str:
    if change.action is Action.CHANGE:
        return _fields(change.fields, change.key[1])
    row = change.new or change.old
    assert row is not None
    return _row(row)


def _state(state: State | None, row: LimitRow | None, usage: float) -> str:
    if state is None or row is None:
        return "no limit"
    return f"{state.value} ({utilisation(usage, row.limit_value):.0%})"


def _usage(impact: Impact) -> str:
    return describe(impact.usage, impact.key[1])


def text(report: DiffReport) -> str:
    lines = [f"{report.file} against {report.table}: {report.summary}"]
    marks = {Action.ADD: "+", Action.CHANGE: "~", Action.REMOVE: "-"}
    for change in report.changes:
        lines.append(f"  {marks[change.action]} {key_label(change.key)}: {describe_change(change)}")
    if report.changes:
        lines.append(f"Alert states, with usage since {report.period.start:%Y-%m-%d}:")
        if not report.impacts:
            lines.append("  no service changes alert state")
        for impact in report.impacts:
            service, metric, plan = impact.key
            lines.append(
                f"  {service}/{metric} ({plan}) at {_usage(impact)}: "
                f"{_state(impact.before, impact.old, impact.usage)} → "
                f"{_state(impact.after, impact.new, impact.usage)}"
            )
    lines.append(f"{report.unchanged} rows unchanged")
    return "\n".join(lines) + "\n"


def markdown(report: DiffReport) -> str:
    heading = f"### Plan limits: {report.summary}"
    if not report.changes:
        return f"{heading}\n\n`{report.table}` matches `{report.file}` ({report.unchanged} rows).\n"
    lines = [heading, "", "| | limit | what |", "|---|---|---|"]
    for change in report.changes:
        lines.append(
            f"| {change.action.value} | `{key_label(change.key)}` "
            f"| {escape_markdown(describe_change(change))} |"
        )
    lines += ["", f"**Alert states** with usage since {report.period.start:%Y-%m-%d}:", ""]
    if not report.impacts:
        lines.append("No service changes alert state under the new numbers.")
    else:
        lines += ["| service / metric | plan | usage | before | after |", "|---|---|---|---|---|"]
        for impact in report.impacts:
            service, metric, plan = impact.key
            lines.append(
                f"| `{service}/{metric}` | {plan} | {_usage(impact)} "
                f"| {_state(impact.before, impact.old, impact.usage)} "
                f"| {_state(impact.after, impact.new, impact.usage)} |"
            )
    lines += ["", f"{report.unchanged} rows unchanged."]
    return "\n".join(lines) + "\n"
