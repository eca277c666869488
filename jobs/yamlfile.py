"""Reading our YAML files (limits.yaml, notifications.yaml): every problem with its line.

The YAML is composed into nodes (not constructed into dicts) so every problem can name
its line: ``limits.yaml:12: limits[3].warning: must be in (0, 1], not 1.5``. A ``Reader``
reads typed values from nodes and records a ``Problem`` instead of raising, so a file's
problems are all reported at once (``raise_problems``). Anchors, aliases, merge keys
(``<<: *defaults``) and comments are allowed; duplicate keys are not.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from jobs.errors import InvalidFile

T = TypeVar("T")

# The names our files give things (plans, accounts, sources, receivers).
NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 40 characters"
DOCUMENT = "(document)"
_PLAIN_KEY = re.compile(r"^[\w$-]+$")


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based; None when the file could not be read at all
    key: str
    message: str

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        return f"{where}: {self.key}: {self.message}"


def read_text(path: str | Path, name: str, error: type[InvalidFile]) -> str:
    """The text of a configuration file, or ``error`` naming why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = Problem(None, DOCUMENT, "no such file")
    except IsADirectoryError:
        problem = Problem(None, DOCUMENT, "is a directory")
    except UnicodeDecodeError as exc:
        problem = Problem(None, DOCUMENT, f"not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        problem = Problem(None, DOCUMENT, f"cannot be read: {exc.strerror or exc}")
    raise error(name, [problem.render(name)])


def raise_problems(r: Reader, file: str, error: type[InvalidFile]) -> None:
    """Raise ``error`` listing every problem ``r`` found, in line order; else nothing."""
    if r.problems:
        ordered = sorted(r.problems, key=lambda p: p.line or 0)
        raise error(file, [p.render(file) for p in ordered])


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def describe(node: Node) -> str:
    """What a value is, for "must be X, not Y" messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "null":
        return "empty"
    if tag == "str":
        return f"the text {node.value!r}"
    if tag == "bool":
        return f"{node.value}"
    return f"{tag} {node.value}"


def allowed_list(values: Iterable[str]) -> str:
    return ", ".join(values)


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"did you mean {close[0]}? " if close else ""


class Reader:
    """Typed access to YAML nodes that records a Problem instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()

    def fail(self, node: Node | None, key: str, message: str) -> None:
        self.problems.append(Problem(line_of(node) if node is not None else None, key, message))

    def mapping(
        self,
        node: Node,
        path: str,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
        *,
        open_keys: bool = False,
    ) -> dict[str, tuple[Node, Node]] | None:
        """The entries of a mapping by key; checks unknown, missing and duplicate keys.

        With ``open_keys`` any string key is allowed (plan and source names).
        """
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"must be a mapping, not {describe(node)}")
            return None
        own = {id(k) for k, _ in node.value}
        try:
            self._constructor.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.fail(node, path, f"bad merge key: {getattr(exc, 'problem', exc)}")
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        seen_own: dict[str, Node] = {}
        allowed = (*required, *optional)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, path, f"keys must be names, not {describe(key_node)}")
                continue
            key = str(key_node.value)
            shown = key if _PLAIN_KEY.match(key) else repr(key)  # '' and 'a: b' stay readable
            where = f"{path}.{shown}" if path != DOCUMENT else shown
            if id(key_node) in own:
                if key in seen_own:
                    first = line_of(seen_own[key])
                    self.fail(key_node, where, f"duplicate key (first at line {first})")
                    continue
                seen_own[key] = key_node
            if not open_keys and key not in allowed:
                hint = suggest(key, allowed)
                self.fail(key_node, where, f"unknown key; {hint}allowed: {allowed_list(allowed)}")
                continue
            # A key of the node itself overrides one merged in from an alias.
            entries[key] = (key_node, value_node)
        for key in required:
            if key not in entries:
                self.fail(node, path, f"missing key {key!r}")
        return entries

    def sequence(self, node: Node, path: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"must be a list, not {describe(node)}")
            return None
        return list(node.value)

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            return node
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError):
            return node.value  # an unparseable timestamp and the like: keep the text

    def number(
        self, node: Node, path: str, *, positive: bool = False, high: float | None = None
    ) -> float | None:
        """A finite number, at least 0 (above 0 with ``positive``), at most ``high``."""
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node, path, f"must be a number, not {describe(node)}")
            return None
        value = float(value)
        if not math.isfinite(value):
            self.fail(node, path, f"must be a finite number, not {value}")
            return None
        low_ok = value > 0 if positive else value >= 0
        if not low_ok or (high is not None and value > high):
            if high is not None:
                rule = f"in {'(' if positive else '['}0, {high:g}]"
            else:
                rule = "positive" if positive else "zero or more"
            self.fail(node, path, f"must be {rule}, not {value:g}")
            return None
        return value

    def text(self, node: Node, path: str) -> str | None:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, path, f"must be text, not {describe(node)}")
            return None
        return value.strip()

    def name(self, node: Node, path: str, what: str) -> str | None:
        value = self.text(node, path)
        if value is not None and not NAME.match(value):
            self.fail(node, path, f"{what} {value!r} must be {NAME_RULE}")
            return None
        return value

    def choice(self, node: Node, path: str, what: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(node, path)
        if value is not None and value not in choices:
            hint = suggest(value, choices)
            self.fail(
                node, path, f"unknown {what} {value!r}; {hint}allowed: {allowed_list(choices)}"
            )
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.scalar(node)
        if not isinstance(value, bool):
            self.fail(node, path, f"must be true or false, not {describe(node)}")
            return None
        return value

    def day(self, node: Node, path: str) -> date | None:
        value = self.scalar(node)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(value.strip())
        if isinstance(value, datetime) or not isinstance(value, date):
            self.fail(node, path, f"must be a date like 2026-11-25, not {describe(node)}")
            return None
        return value

    def parsed(self, node: Node, path: str, parse: Callable[[str], T], example: str) -> T | None:
        """A text value through ``parse`` (which raises ValueError, e.g. QuantityError, with
        the reason)."""
        value = self.scalar(node)
        if not isinstance(value, str):
            self.fail(node, path, f"must be {example}, not {describe(node)}")
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.fail(node, path, str(exc))
            return None


def read_top(
    r: Reader, text: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, tuple[Node, Node]] | None:
    """The top-level entries of a YAML document (shared by every file read this way)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        reason = ": ".join(p for p in parts if p) or str(exc).splitlines()[0]
        r.problems.append(
            Problem(mark.line + 1 if mark else None, DOCUMENT, f"not valid YAML: {reason}")
        )
        return None
    keys = allowed_list((*required, *optional))
    if root is None:
        r.problems.append(
            Problem(1, DOCUMENT, f"the file is empty; expected a mapping with {keys}")
        )
        return None
    if not isinstance(root, MappingNode):
        r.fail(root, DOCUMENT, f"must be a mapping with {keys}, not {describe(root)}")
        return None
    return r.mapping(root, DOCUMENT, required=required, optional=optional)


@dataclass(frozen=True)
class Fields:
    """The entries of one mapping (a plan, a service, a limit) while it is read."""

    node: Node
    entries: dict[str, tuple[Node, Node]]
    path: str

    def get(self, key: str) -> Node | None:
        return self.entries[key][1] if key in self.entries else None

    def at(self, key: str, fallback: str = "limit") -> tuple[Node, str]:
        """The value node and path of ``key``, or of ``fallback`` when the row omits it."""
        if key not in self.entries:
            key = fallback
        return self.entries[key][1], f"{self.path}.{key}"
