"""The run summary: one row per source, as a terminal table and as Markdown (pure)."""

from __future__ import annotations

from jobs import formats
from jobs.collect.runner import Outcome, RunReport
from jobs.text import markdown

COLUMNS = ("source", "windows", "written", "new", "updated", "unchanged", "unmapped", "result")


def _cells(outcome: Outcome) -> tuple[str, ...]:
    w = outcome.written
    return (
        outcome.source,
        str(outcome.windows),
        str(w.new + w.updated),
        str(w.new),
        str(w.updated),
        str(w.unchanged),
        str(sum(outcome.unmapped.values())),
        "ok" if outcome.ok else "FAILED",
    )


def headline(report: RunReport) -> str:
    failed = sum(not o.ok for o in report.outcomes)
    kind = "FOCUS file import" if report.trigger == "file" else "collection run"
    state = f"{failed} of {len(report.outcomes)} sources failed" if failed else "all sources ok"
    if report.interrupted is not None:
        done = sum(o.ok for o in report.outcomes)
        state = (
            f"{report.interrupted}: stopped after {done} sources written whole; the rest "
            "collected nothing (the next run resumes from the watermarks)"
        )
    return f"{kind} {report.started:%Y-%m-%d %H:%M} UTC: {state}"


def _details(report: RunReport) -> list[str]:
    lines = []
    for o in report.outcomes:
        if o.error:
            lines.append(f"error {o.source}: {o.error}")
    for o in report.outcomes:
        for item, count in sorted(o.unmapped.items()):
            lines.append(f"unmapped {o.source}: {item} ({count} lines)")
    for o in report.outcomes:
        lines.extend(f"note {o.source}: {note}" for note in o.notes)
    lines.extend(f"warning: {w}" for w in report.warnings)
    return lines


def as_text(report: RunReport) -> str:
    numbers = range(1, len(COLUMNS) - 1)  # between the source and the status
    table = formats.table(COLUMNS, [_cells(o) for o in report.outcomes], right=numbers)
    out = [headline(report), "", *table.splitlines()]
    details = _details(report)
    if details:
        out += ["", *details]
    return "\n".join(out) + "\n"


def as_markdown(report: RunReport) -> str:
    out = [f"### {markdown(headline(report))}", ""]
    out.append("| " + " | ".join(COLUMNS) + " |")
    out.append("|" + "|".join(["---", *(["---:"] * (len(COLUMNS) - 2)), "---"]) + "|")
    for outcome in report.outcomes:
        out.append("| " + " | ".join(markdown(c) for c in _cells(outcome)) + " |")
    details = _details(report)
    if details:  # provider messages, file contents: escaped, so they render as text
        out += ["", *(f"- {markdown(d)}" for d in details)]
    return "\n".join(out) + "\n\n"
