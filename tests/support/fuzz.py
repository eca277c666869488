"""Hypothesis strategies for hostile input: any JSON value, and valid documents with a few
nodes replaced, removed or wrapped."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

# Values parsers trip on: huge and non-finite numbers, near-miss times and units, empties.
EDGE_NUMBERS = [0, -1, 10**400, -(10**400), 1e308, -1e308, float("nan"), float("inf"), 2**63]
EDGE_TEXT = [
    "",
    " ",
    "null",
    "NaN",
    "1e999",
    "-1",
    "2026-13-45T00:00:00Z",
    "2026-11-20T00:00:00+99:00",
    "0000-00-00",
    "Usage",
    "usage",
    "GB",
    "TB",
    "Requests",
    "\x00",
    "\ud7ff",
    "💥",
    "a" * 300,
    "{}",
    "[]",
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(EDGE_TEXT),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
# Half the replacements are edge values: few examples still reach the cases that break.
replacements = st.one_of(st.sampled_from([*EDGE_NUMBERS, *EDGE_TEXT, None, [], {}]), json_values)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any, max_edits: int = 3) -> Any:
    """``base`` (deep-copied) with 1..max_edits nodes replaced by any JSON value, deleted, or
    wrapped in a list."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_edits))):
        paths = _paths(value)
        leaves = [p for p in paths if p and not isinstance(_at(value, p), dict | list)]
        # Mostly a leaf (a field's value), sometimes any node, the root included.
        path = draw(
            st.sampled_from(leaves) if leaves and draw(st.booleans()) else st.sampled_from(paths)
        )
        action = draw(st.sampled_from(["replace", "delete", "wrap"]))
        if not path:
            value = draw(replacements) if action != "wrap" else [value]
            continue
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        else:
            parent[key] = draw(replacements)
    return value


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


EDGE_VALUES: list[Any] = [*EDGE_NUMBERS, *EDGE_TEXT, None, True, [], {}, [1], {"a": 1}]
_DELETED = object()


def edge_edits(base: Any) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """Every field of ``base`` set to every edge value, and deleted, one edit at a time:
    (path, value, edited document). The exhaustive, deterministic twin of ``mutated``."""
    for path in _paths(base):
        if not path:
            continue
        for value in [*EDGE_VALUES, _DELETED]:
            edited = copy.deepcopy(base)
            parent = _at(edited, path[:-1])
            if value is _DELETED:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            yield path, "deleted" if value is _DELETED else value, edited
