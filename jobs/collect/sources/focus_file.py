"""A FOCUS export file (CSV or JSON lines, optionally gzipped), for backfills and offline use.

Rows go to the stream of the provider that billed them: a Vercel export to
``vercel-billing`` (the API's stream, so a file and the API never double count), any other
provider to ``focus:<ServiceProviderName>``. Every bad row is reported as ``file:line``;
one bad row fails the file and nothing of it is written.

The file is streamed: read line by line (JSON lines) or record by record (CSV) and added
up as it goes, so memory depends on the number of series and days, not on the file's size
(bench/focus_memory.py), plus a 64-bit fingerprint per line: a line identical to an
earlier one of the same file is reported and not added again (an export concatenated
twice, say). Charges that start after ``now`` are refused (reported, not stored).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from jobs.collect.focus import ChargeTotals, parse_charge
from jobs.collect.records import Batch
from jobs.errors import ConfigError, PayloadError

MAX_REPORTED = 5


def _open(path: Path) -> IO[str]:
    try:
        if path.suffix == ".gz":
            return io.TextIOWrapper(gzip.open(path), encoding="utf-8-sig", newline="")
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ConfigError(f"cannot read FOCUS file {path}: {exc.strerror or exc}") from None


def file_format(path: Path, first_text: str) -> str:
    """ "jsonl" or "csv": by extension, else by the first character of the content."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    return "jsonl" if first_text.lstrip().startswith("{") else "csv"


def _peek(path: Path) -> str:
    with _open(path) as stream:
        return stream.read(200)


def records(path: Path, stream: IO[str], kind: str) -> Iterator[tuple[int, object]]:
    """(line number, record) for every record of the file, read as it streams by;
    unreadable lines as PayloadError."""
    if kind == "jsonl":
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError:
                yield number, PayloadError(f"{path}:{number}: not valid JSON")
        return
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "ServiceName" not in reader.fieldnames:
        raise PayloadError(f"{path}:1: not a FOCUS CSV (no ServiceName column in the header)")
    for row in reader:
        if None in row:
            problem = f"{path}:{reader.line_num}: more fields than the header"
            yield reader.line_num, PayloadError(problem)
            continue
        yield reader.line_num, row


def fingerprint(record: object) -> int:
    """8 bytes that tell identical records apart from different ones (key order ignored)."""
    text = json.dumps(record, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


@dataclass
class FocusFile:
    path: Path
    now: datetime | None = None  # charges starting after it are refused

    @property
    def name(self) -> str:
        return f"file:{self.path.name}"

    def read(self) -> Batch:
        totals = ChargeTotals(now=self.now)
        errors: list[str] = []  # the first MAX_REPORTED; ``bad`` counts them all
        bad = 0
        seen: set[int] = set()  # the fingerprints of the lines added so far
        duplicates: list[int] = []  # the line numbers of the first MAX_REPORTED repeats
        repeats = 0
        try:
            kind = file_format(self.path, _peek(self.path))
            with _open(self.path) as stream:
                for number, record in records(self.path, stream, kind):
                    problem = record if isinstance(record, PayloadError) else None
                    if problem is None:
                        mark = fingerprint(record)
                        if mark in seen:
                            repeats += 1
                            if len(duplicates) < MAX_REPORTED:
                                duplicates.append(number)
                            continue
                        seen.add(mark)
                        try:
                            totals.add(parse_charge(record, f"{self.path}:{number}"))
                        except PayloadError as exc:
                            problem = exc
                    if problem is not None:
                        bad += 1
                        if len(errors) < MAX_REPORTED:
                            errors.append(str(problem))
        except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
            raise PayloadError(f"{self.path}: cannot be read: {exc}") from None
        if bad:
            shown = "; ".join(errors)
            more = f" (and {bad - MAX_REPORTED} more)" if bad > MAX_REPORTED else ""
            raise PayloadError(f"{bad} bad rows, nothing imported: {shown}{more}")
        if totals.charges == 0:
            raise PayloadError(f"{self.path}: no charges in the file")
        try:
            rows = totals.rows()
        except PayloadError as exc:
            raise PayloadError(f"{self.path}: {exc}, nothing imported") from None
        notes = totals.notes()
        if repeats:
            lines = ", ".join(str(n) for n in duplicates) + (
                ", …" if repeats > len(duplicates) else ""
            )
            notes.append(
                f"{repeats} lines identical to an earlier line of the file not added again "
                f"(lines {lines})"
            )
        return Batch(
            rows=rows,
            windows=len({(r.source, r.start) for r in rows}),
            unmapped=totals.unmapped,
            notes=notes,
        )
