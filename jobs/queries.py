"""Named SQL queries from ``sql/queries/*.sql``.

Each query starts with a ``-- name: <name>`` line; everything up to the next such line
belongs to it. Values are always passed as ``%(param)s`` parameters.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from jobs.paths import SQL_DIR

_HEADER = re.compile(r"^--\s*name:\s*(\S+)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a queries file into {name: sql}; duplicate names are a programming error."""
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries


@cache
def load(group: str) -> dict[str, str]:
    """The queries of ``sql/queries/<group>.sql``."""
    return parse_queries((Path(SQL_DIR) / "queries" / f"{group}.sql").read_text(encoding="utf-8"))


def query(group: str, name: str) -> str:
    return load(group)[name]
