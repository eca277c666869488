"""Shared by the benchmarks: a throw-away PostgreSQL with the schema, and medians."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from jobs.schema import migrate  # noqa: E402
from jobs.schema.plan import SCHEMA_PLAN  # noqa: E402
from tests.support.pg_server import dedicated_server  # noqa: E402


@contextmanager
def database() -> Iterator[str]:
    """A fresh embedded server with the whole schema; stopped and removed afterwards."""
    with dedicated_server("bench") as (_, dsn):
        with psycopg.connect(dsn) as conn:
            for obj in SCHEMA_PLAN:
                migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, "public"))
        yield dsn


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
