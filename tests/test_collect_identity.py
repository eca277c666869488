"""The identity of a usage line: what makes two lines the same usage, and what may not be
stored twice (FOCUS files and the billing API, against a real PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobs.collect import config, summary
from jobs.collect.http import RetryPolicy
from jobs.collect.runner import RunReport, collect
from tests.support.fake_apis import FakeApis, Reply, charge, pacific_day

DAY = datetime(2026, 11, 18)
P18 = pacific_day(DAY)[0]
NOW = datetime(2026, 11, 25, 12)


async def no_wait(_seconds: float) -> None:
    return None


FAST = RetryPolicy(attempts=2, base_delay=0.01, read_timeout=5, sleep=no_wait)


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def import_files(dsn: str, *paths: Path, now: datetime = NOW) -> RunReport:
    return collect(config.from_env({}), dsn, files=paths, now=now, lock_wait=0)


def requests(dsn: str) -> dict[tuple[datetime, datetime, str], float]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            'SELECT "timestamp", "windowEnd", project, value FROM "InfrastructureMetric" '
            "WHERE \"metricType\" = 'REQUESTS'"
        ).fetchall()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def window(line: dict[str, Any]) -> tuple[datetime, datetime, str]:
    """The stored key of an ``edge`` line: its window and project."""
    start, end = (
        datetime.strptime(line[k], "%Y-%m-%dT%H:%M:%S.000Z")
        for k in ("ChargePeriodStart", "ChargePeriodEnd")
    )
    return start, end, f"prj_{line['Tags']['ProjectId'].removeprefix('prj_')}"


def edge(start: datetime, hours: int, amount: float, project: str = "web") -> dict[str, Any]:
    """An Edge Requests line over [start, start + hours)."""
    line = charge(DAY, "Edge Requests", amount, "Requests", 0.0, project=project)
    line["ChargePeriodStart"] = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    line["ChargePeriodEnd"] = (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return line


def test_files_split_by_project_never_overwrite_each_other(
    migrated_db: str, tmp_path: Path
) -> None:
    web = write(tmp_path / "web.jsonl", [edge(P18, 24, 1000, "web")])
    docs = write(tmp_path / "docs.jsonl", [edge(P18, 24, 30, "docs")])
    assert import_files(migrated_db, web).exit_code == 0
    assert import_files(migrated_db, docs).exit_code == 0
    assert requests(migrated_db) == {
        (P18, P18 + timedelta(days=1), "prj_web"): 1000,
        (P18, P18 + timedelta(days=1), "prj_docs"): 30,
    }
    # Importing one of them again changes nothing.
    again = import_files(migrated_db, web)
    assert again.outcomes[0].written.unchanged == 2 and again.outcomes[0].written.new == 0
    assert sum(requests(migrated_db).values()) == 1030


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Hourly, then the same day daily.
        ([edge(P18 + timedelta(hours=h), 1, 100) for h in range(24)], [edge(P18, 24, 2400)]),
        # Daily in UTC days, then in Vercel's (Los Angeles) days.
        ([edge(DAY, 24, 2400)], [edge(P18, 24, 2400)]),
        # The other way round: a stored window reaching into the new ones from before them,
        # and new windows covering stored ones that start later.
        ([edge(P18, 24, 2400)], [edge(P18 + timedelta(hours=h), 1, 100) for h in range(24)]),
        ([edge(P18, 24, 2400)], [edge(DAY, 24, 1000), edge(DAY + timedelta(days=1), 24, 1400)]),
    ],
    ids=["hourly-then-daily", "utc-then-pacific", "daily-then-hourly", "pacific-then-utc"],
)
def test_the_same_usage_at_another_granularity_or_offset_is_not_added_twice(
    migrated_db: str, tmp_path: Path, first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    assert import_files(migrated_db, write(tmp_path / "a.jsonl", first)).exit_code == 0
    assert sum(requests(migrated_db).values()) == 2400
    report = import_files(migrated_db, write(tmp_path / "b.jsonl", second))
    assert report.exit_code == 0, summary.as_text(report)
    assert requests(migrated_db) == {window(line): line["ConsumedQuantity"] for line in second}
    replaced = report.outcomes[0].written.replaced
    # Each window had its requests row and its cost row. A stored window is replaced when a
    # new one with another start overlaps it (one that only shares its start is updated in
    # place, the same key).
    new = [window(line)[:2] for line in second]
    overlapped = sum(
        any(start < e and end > s and start != s for s, e in new)
        for start, end, _ in map(window, first)
    )
    assert replaced == 2 * overlapped and f"{replaced} stored rows overlapped" in summary.as_text(
        report
    )


def test_one_file_holding_a_day_twice_at_two_granularities_is_refused(
    migrated_db: str, tmp_path: Path
) -> None:
    lines = [edge(P18, 24, 2400), *(edge(P18 + timedelta(hours=h), 1, 100) for h in range(24))]
    report = import_files(migrated_db, write(tmp_path / "both.jsonl", lines))
    assert report.exit_code == 2  # a bad file of the user's: a user error
    error = report.outcomes[0].error or ""
    assert "overlapping windows: vercel-billing VERCEL_EDGE_REQUESTS/" in error
    assert "of prj_web 2026-11-18 08:00..2026-11-19 08:00 and 2026-11-18 09:00" in error
    assert requests(migrated_db) == {}


def test_identical_duplicate_lines_are_reported_not_summed(
    migrated_db: str, tmp_path: Path
) -> None:
    line = edge(P18, 24, 500)
    other = edge(P18, 24, 7, "docs")
    report = import_files(migrated_db, write(tmp_path / "x.jsonl", [line, other, line, line]))
    assert report.exit_code == 0
    assert requests(migrated_db) == {
        (P18, P18 + timedelta(days=1), "prj_web"): 500,
        (P18, P18 + timedelta(days=1), "prj_docs"): 7,
    }
    assert (
        "2 lines identical to an earlier line of the file not added again (lines 3, 4)"
        in report.outcomes[0].notes
    )


def test_charges_in_the_future_are_refused_and_reported(migrated_db: str, tmp_path: Path) -> None:
    future = edge(datetime(2027, 3, 1, 8), 24, 99)
    report = import_files(migrated_db, write(tmp_path / "f.jsonl", [edge(P18, 24, 5), future]))
    assert report.exit_code == 0
    assert requests(migrated_db) == {(P18, P18 + timedelta(days=1), "prj_web"): 5}
    assert (
        "1 charges starting in the future (after 2026-11-25 12:00 UTC) not stored"
        in report.outcomes[0].notes
    )


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    with FakeApis() as fake:
        yield fake


def test_charges_outside_the_requested_window_are_refused_and_reported(
    apis: FakeApis, migrated_db: str
) -> None:
    # An API that answers more than it was asked: a day long before the window.
    inside = charge(DAY, "Edge Requests", 10, "Requests", 0.0)
    outside = charge(datetime(2025, 1, 10), "Edge Requests", 99, "Requests", 0.0)
    body = b"".join(json.dumps(line).encode() + b"\n" for line in (inside, outside))
    apis.script("/v1/billing/charges", Reply(200, body))
    env = apis.env() | {"COLLECT_BACKFILL_DAYS": "3"}
    report = collect(config.from_env(env), migrated_db, now=NOW, policy=FAST, lock_wait=0)
    billing = next(o for o in report.outcomes if o.source == "vercel-billing")
    assert billing.ok and "1 charges outside the requested window not stored" in billing.notes
    assert requests(migrated_db) == {(P18, P18 + timedelta(days=1), "prj_web"): 10}
