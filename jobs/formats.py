"""How the jobs format what they print for people and scripts: one JSON convention, one
table layout, used by every command. (A closed pipe is handled once, in ``jobs.cli``.)

JSON (``--format json`` of every command): field names in camelCase; times in ISO 8601 UTC
to the second with ``Z`` (``2026-11-20T08:00:00Z``; the tables hold naive UTC); dates as
``YYYY-MM-DD``; Decimals as numbers; enums as their values. Keys that are data rather than
field names (service names, enum values such as ``VERCEL_BANDWIDTH``) are kept as they are:
only snake_case keys are renamed.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
LINE_BREAK = re.compile(r"[ \t]*[\r\n\v\f]+[ \t]*")
GAP = "  "


def camel(name: str) -> str:
    """``payback_days`` -> ``paybackDays``; any other key unchanged."""
    if not SNAKE_CASE.match(name):
        return name
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def iso_time(moment: datetime) -> str:
    """ISO 8601 UTC with ``Z``, to the second; a naive time is UTC (as in the tables)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def json_value(value: Any) -> Any:
    """``value`` as plain JSON types, in the convention above."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {camel(str(key)): json_value(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Sequence | set | frozenset):
        return [json_value(item) for item in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(json_value(value), indent=2, ensure_ascii=False) + "\n"


def print_json(value: Any) -> None:
    sys.stdout.write(to_json(value))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[int] = ()
) -> str:
    """Columns as wide as their widest cell, two spaces apart; the ``right`` columns
    (numbers) right-aligned. No trailing spaces."""
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    lines = []
    for line in cells:
        padded = [
            text.rjust(width) if i in right else text.ljust(width)
            for i, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append(GAP.join(padded).rstrip())
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    # One line per row, whatever the text holds (spacing within a line is kept).
    return LINE_BREAK.sub(" ", str(value))
