"""Where a Prisma schema file differs from the one generated from sql/, object by object.

Pure. Both texts are split into their ``enum``/``model`` blocks; inside a block, fields and
enum values are matched by name, block attributes (``@@…``) and comments by their text.
Each difference is named (``model InfrastructureMetric: field region …``), so a failing
check says what to change, not just that the files differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK_START = re.compile(r"(?P<kind>enum|model|view|type)\s+(?P<name>\w+)\s*\{\s*\Z")


@dataclass(frozen=True)
class _Entry:
    what: str  # "field", "value", "attribute" or "comment"
    key: str
    text: str

    @property
    def named(self) -> bool:
        return self.what in ("field", "value")

    def describe(self) -> str:
        return f"{self.what} {self.key}" if self.named else self.text

    @property
    def detail(self) -> str:
        """The whole line, when the name alone does not say it."""
        return f" ({self.text})" if self.named and self.text != self.key else ""


def _entry(kind: str, line: str) -> _Entry:
    text = " ".join(line.split())
    if text.startswith("//"):
        return _Entry("comment", text, text)
    if text.startswith("@@"):
        return _Entry("attribute", text, text)
    return _Entry("value" if kind == "enum" else "field", text.split()[0], text)


def _blocks(text: str) -> tuple[dict[str, dict[str, _Entry]], list[str]]:
    """{"model X": {key: entry}} and the problems that stopped parsing a block."""
    blocks: dict[str, dict[str, _Entry]] = {}
    problems: list[str] = []
    current: str | None = None
    kind = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if current is None:
            start = _BLOCK_START.match(line)
            if start:
                kind = start["kind"]
                current = f"{kind} {start['name']}"
                if current in blocks:
                    problems.append(f"{current} is defined twice (line {number})")
                blocks[current] = {}
            continue
        if line == "}":
            current = None
        elif line:
            entry = _entry(kind, line)
            blocks[current][entry.key] = entry
    if current is not None:
        problems.append(f"{current} is not closed with '}}'")
    return blocks, problems


def differences(file_text: str, generated: str, file_label: str) -> list[str]:
    """What ``file_text`` (named ``file_label``) lacks, adds or changes against ``generated``.

    Empty when the texts are equal. When every object matches but the texts still differ,
    the one difference is about order, comments outside the objects or formatting.
    """
    have, problems = _blocks(file_text)
    want, _ = _blocks(generated)
    found = [f"{file_label}: {p}" for p in problems]
    for block in want.keys() - have.keys():
        found.append(f"{block} is missing from {file_label}")
    for block in have.keys() - want.keys():
        found.append(f"{block} is in {file_label} but not in sql/")
    for block in sorted(want.keys() & have.keys()):
        in_file, in_sql = have[block], want[block]
        for key in sorted(in_sql.keys() - in_file.keys()):
            entry = in_sql[key]
            found.append(f"{block}: {entry.describe()} is missing from {file_label}{entry.detail}")
        for key in sorted(in_file.keys() - in_sql.keys()):
            found.append(f"{block}: {in_file[key].describe()} is in {file_label} but not in sql/")
        # Only named entries can differ in place; attributes and comments are keyed by text.
        for key in sorted(in_sql.keys() & in_file.keys()):
            if in_sql[key].text != in_file[key].text:
                found.append(
                    f"{block}: {in_sql[key].describe()} differs: {file_label} has "
                    f"{in_file[key].text!r}, sql/ gives {in_sql[key].text!r}"
                )
    if not found and file_text != generated:
        found.append(f"{file_label} differs from the generated text in order or formatting only")
    return sorted(found)
