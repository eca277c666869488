"""What applying the limits file would change, and what that does to alert states.

Pure functions: the rows of the file and of the table in, the changes and their impact out.
``python -m jobs limits diff`` feeds them from the database; nothing here does IO.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jobs.limits.model import VALUE_COLUMNS, Key, LimitRow
from jobs.recommend.evaluation import State, classify


class Action(enum.StrEnum):
    ADD = "added"
    CHANGE = "changed"
    REMOVE = "removed"


@dataclass(frozen=True)
class FieldChange:
    column: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RowChange:
    action: Action
    old: LimitRow | None  # None when added
    new: LimitRow | None  # None when removed
    fields: tuple[FieldChange, ...] = ()  # what differs, when changed

    @property
    def key(self) -> Key:
        row = self.new or self.old
        assert row is not None
        return row.key


@dataclass(frozen=True)
class Impact:
    """A service x metric whose alert state moves; a state of None means "no limit"."""

    key: Key  # of the active plan's limit
    usage: float
    before: State | None
    after: State | None
    old: LimitRow | None
    new: LimitRow | None


def compare(file_rows: Iterable[LimitRow], table_rows: Iterable[LimitRow]) -> list[RowChange]:
    """The rows the file adds, changes and removes, ordered by key."""
    wanted = {row.key: row for row in file_rows}
    present = {row.key: row for row in table_rows}
    changes = []
    for key in sorted(wanted.keys() | present.keys()):
        new, old = wanted.get(key), present.get(key)
        if old is None:
            changes.append(RowChange(Action.ADD, None, new))
        elif new is None:
            changes.append(RowChange(Action.REMOVE, old, None))
        else:
            before, after = old.values(), new.values()
            fields = tuple(
                FieldChange(column, before[column], after[column])
                for column in VALUE_COLUMNS
                if before[column] != after[column]
            )
            if fields:
                changes.append(RowChange(Action.CHANGE, old, new, fields))
    return changes


def _state(row: LimitRow | None, usage: float) -> State | None:
    if row is None:
        return None
    return classify(usage, row.limit_value, row.warning, row.critical)


def impacts(
    changes: Iterable[RowChange],
    active_plans: Mapping[str, str],
    usage: Mapping[tuple[str, str], float],
) -> list[Impact]:
    """Each change to a limit of a service's active plan that moves its alert state, given
    the usage so far (``(service, metric) -> value``, canonical units). Metrics without usage
    data stay NO_DATA whatever the numbers, so they never move."""
    moved = []
    for change in changes:
        service, metric, plan = change.key
        if active_plans.get(service) != plan or (service, metric) not in usage:
            continue
        value = usage[(service, metric)]
        before, after = _state(change.old, value), _state(change.new, value)
        if before != after:
            moved.append(Impact(change.key, value, before, after, change.old, change.new))
    return moved
