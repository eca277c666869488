"""Change scalar values in a YAML file's text without touching anything else: comments,
key order, quoting and spacing of every other line stay as they were, so the diff of a
proposed plan change is exactly the plan lines. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from jobs.errors import ConfigError

PLAIN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")  # a plan name: safe as a plain scalar


@dataclass(frozen=True)
class Edit:
    path: tuple[str, ...]  # mapping keys from the top, e.g. ("accounts", "neon", "plan")
    value: str
    optional: bool = False  # skipped where the file has no such key


def _child(node: Node, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


def apply(text: str, edits: Sequence[Edit], file: str) -> str:
    """``text`` with each edit's scalar replaced; ConfigError naming the path otherwise."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {str(exc).splitlines()[0]}") from None
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        if not PLAIN.match(edit.value):
            raise ConfigError(f"{file}: {edit.value!r} is not a plan name")
        node: Node | None = root
        for key in edit.path:
            node = _child(node, key) if node is not None else None
        where = ".".join(edit.path)
        if node is None and edit.optional:
            continue
        if not isinstance(node, ScalarNode) or node.style not in (None, "'", '"'):
            raise ConfigError(f"{file}: {where} is not a plain value that can be changed")
        quote = node.style or ""
        spans.append((node.start_mark.index, node.end_mark.index, f"{quote}{edit.value}{quote}"))
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text
