"""A FOCUS export file (CSV or JSON lines, optionally gzipped), for backfills and offline use.

Rows go to the stream of the provider that billed them: a Vercel export to
``vercel-billing`` (the API's stream, so a file and the API never double count), any other
provider to ``focus:<ServiceProviderName>``. Every bad row is reported as ``file:line``;
one bad row fails the file and nothing of it is written.

The file is streamed: read line by line (JSON lines) or record by record (CSV) and added
up as it goes, so memory depends on the number of series and days, not on the file's size
(bench/focus_memory.py), plus an 8-byte fingerprint per line: a line identical to an
earlier one of the same file is reported and not added again (an export concatenated
twice, say; the file is then read a second time). Charges that start after ``now`` are
refused (reported, not stored).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
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
            except RecursionError:
                yield number, PayloadError(f"{path}:{number}: JSON nested too deeply")
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


def repeated(prints: array[int]) -> set[int]:
    """The fingerprints that occur more than once (sorted in place: 8 bytes a line)."""
    import numpy as np  # only the file import needs it; numpy is a runtime dependency

    ordered = np.frombuffer(prints, dtype=np.uint64).copy() if prints else np.zeros(0, np.uint64)
    ordered.sort()
    return {int(v) for v in ordered[1:][ordered[1:] == ordered[:-1]]}


@dataclass
class _Pass:
    """One reading of the file: the totals, the bad rows, the repeated lines."""

    totals: ChargeTotals
    prints: array[int]
    bad: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_REPORTED bad rows
    repeats: int = 0
    repeated_lines: list[int] = field(default_factory=list)  # the first MAX_REPORTED


@dataclass
class FocusFile:
    path: Path
    now: datetime | None = None  # charges starting after it are refused

    @property
    def name(self) -> str:
        return f"file:{self.path.name}"

    def read(self) -> Batch:
        # Fingerprints of every line (8 bytes each) find identical lines; only if there are
        # any is the file read a second time, adding each such line once.
        first = self._pass(skip=None)
        twice = repeated(first.prints)
        done = self._pass(skip=twice) if twice else first
        if done.bad:
            shown = "; ".join(done.errors)
            more = f" (and {done.bad - MAX_REPORTED} more)" if done.bad > MAX_REPORTED else ""
            raise PayloadError(f"{done.bad} bad rows, nothing imported: {shown}{more}")
        totals = done.totals
        if totals.charges == 0:
            raise PayloadError(f"{self.path}: no charges in the file")
        try:
            rows = totals.rows()
        except PayloadError as exc:
            raise PayloadError(f"{self.path}: {exc}, nothing imported") from None
        notes = totals.notes()
        if done.repeats:
            lines = ", ".join(str(n) for n in done.repeated_lines)
            more = ", …" if done.repeats > len(done.repeated_lines) else ""
            notes.append(
                f"{done.repeats} lines identical to an earlier line of the file not added "
                f"again (lines {lines}{more})"
            )
        return Batch(
            rows=rows,
            windows=len({(r.source, r.start) for r in rows}),
            unmapped=totals.unmapped,
            notes=notes,
            purchases=totals.purchases,
        )

    def _pass(self, skip: set[int] | None) -> _Pass:
        """Read the file once; with ``skip``, lines of those fingerprints count only once."""
        done = _Pass(ChargeTotals(now=self.now), array("Q"))
        added: set[int] = set()  # of the fingerprints in ``skip``, those already added
        try:
            kind = file_format(self.path, _peek(self.path))
            with _open(self.path) as stream:
                for number, record in records(self.path, stream, kind):
                    problem = record if isinstance(record, PayloadError) else None
                    if problem is None:
                        mark = fingerprint(record)
                        if skip is None:
                            done.prints.append(mark)
                        elif mark in skip:
                            if mark in added:
                                done.repeats += 1
                                if len(done.repeated_lines) < MAX_REPORTED:
                                    done.repeated_lines.append(number)
                                continue
                            added.add(mark)
                        try:
                            done.totals.add(parse_charge(record, f"{self.path}:{number}"))
                        except PayloadError as exc:
                            problem = exc
                    if problem is not None:
                        done.bad += 1
                        if len(done.errors) < MAX_REPORTED:
                            done.errors.append(str(problem))
        except (UnicodeDecodeError, OSError, csv.Error, EOFError, zlib.error) as exc:
            # EOFError, zlib.error: a gzip file cut short or corrupt
            raise PayloadError(f"{self.path}: cannot be read: {exc}") from None
        return done
