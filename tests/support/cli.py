"""Helpers shared by the CLI and job tests: run the CLI in-process, write metric windows
through the collection job's storage path, read rows back."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from jobs.cli import main
from jobs.collect import store as metrics_store
from jobs.collect.records import MetricRow


def write_daily(
    dsn: str,
    first: datetime,
    amounts: list[float],
    source: str = "vercel-billing",
    service: str = "VERCEL_BANDWIDTH",
    metric: str = "BANDWIDTH_GB",
    project: str = "",
    metadata: dict[str, Any] | None = None,
) -> None:
    """Daily windows through the collection job's own storage path (of one project, each
    keeping ``metadata``)."""
    rows = [
        MetricRow(
            service,
            metric,
            amount,
            first + timedelta(days=i),
            first + timedelta(days=i + 1),
            source,
            dict(metadata or {}),
            project,
        )
        for i, amount in enumerate(amounts)
    ]
    with psycopg.connect(dsn) as conn:
        conn.autocommit = True
        metrics_store.write(
            conn, source, rows, through=None, run_id=str(uuid.uuid4()), at=datetime(2026, 11, 20)
        )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI in-process; usage errors (argparse's SystemExit) come back as exit code 2."""
    try:
        code = main(list(argv))
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def rows(dsn: str, query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()
