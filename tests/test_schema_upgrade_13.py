"""The schema of issue 13 arrives through the additive path, on a database holding data.

``tests/data/schema-before-13/`` holds the deploy files as they were before (the enum
without VERCEL_ISR and VERCEL_OTHER, CollectionWatermark without "lastNote",
InfrastructureMetric without "project" in its natural key). A database
is built from them and filled; then `python -m jobs schema up` (the code `pulumi up`
runs) brings it to today's ``sql/``: the enum values are added in place, the column is
added, every row stays, and the new values are usable at once, limits included.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from jobs.cli import main
from jobs.limits import store as limits_store
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema import migrate
from jobs.schema.plan import SCHEMA_PLAN

BEFORE = Path(__file__).parent / "data" / "schema-before-13"


def build_previous_schema(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        for obj in SCHEMA_PLAN:
            spec = migrate.ObjectSpec.from_plan(obj, "public")
            old = BEFORE / f"{obj.name}.sql"
            if old.exists():
                spec = migrate.ObjectSpec(
                    obj.name, obj.kind, "public", old.read_text(), spec.revert_sql
                )
            migrate.apply(conn, spec)


def test_schema_up_adds_the_new_values_in_place_and_keeps_every_row(
    empty_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_previous_schema(empty_db)
    day = datetime(2026, 11, 18, 8)
    with psycopg.connect(empty_db) as conn:
        labels = conn.execute('SELECT enum_range(NULL::"InfrastructureService")::text[]').fetchone()
        assert labels is not None and "VERCEL_ISR" not in labels[0]
        conn.execute(
            """INSERT INTO "InfrastructureMetric"
               (service, "metricType", value, unit, "timestamp", "windowEnd", source)
               VALUES ('VERCEL_BANDWIDTH', 'BANDWIDTH_GB', 2.5, 'GB', %s, %s, 'vercel-billing')""",
            [day, day.replace(day=19)],
        )
        conn.execute(
            """INSERT INTO "CollectionWatermark" (source, "collectedThrough", "lastAttemptAt")
               VALUES ('vercel-billing', %s, %s)""",
            [day, day],
        )
    monkeypatch.setenv("DATABASE_URL", empty_db)
    assert main(["schema", "up"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "add value VERCEL_ISR" in out and "add value VERCEL_OTHER" in out
    assert "add column project" in out and "_source_project_ts_key" in out

    with psycopg.connect(empty_db) as conn:
        # Rows kept (a row of before has no project).
        assert conn.execute('SELECT value, project FROM "InfrastructureMetric"').fetchall() == [
            (2.5, "")
        ]
        assert conn.execute(
            'SELECT source, "collectedThrough", "lastNote" FROM "CollectionWatermark"'
        ).fetchall() == [("vercel-billing", day, None)]
        # The new values are usable at once: metrics, notes, and the new limits rows.
        conn.execute(
            """INSERT INTO "InfrastructureMetric"
               (service, "metricType", value, unit, "timestamp", "windowEnd", source)
               VALUES ('VERCEL_ISR', 'READ_OPERATIONS', 7, 'operations', %s, %s, 'v'),
                      ('VERCEL_OTHER', 'COST_USD', 0.5, 'USD', %s, %s, 'v')""",
            [day, day.replace(day=19)] * 2,
        )
        conn.execute('UPDATE "CollectionWatermark" SET "lastNote" = \'a note\'')
        # The same window of another project is another row under the new key.
        conn.execute(
            """INSERT INTO "InfrastructureMetric" (service, "metricType", value, unit,
               "timestamp", "windowEnd", source, project)
               VALUES ('VERCEL_BANDWIDTH', 'BANDWIDTH_GB', 1, 'GB', %s, %s, 'vercel-billing',
                       'prj_docs')""",
            [day, day.replace(day=19)],
        )
        for row in load(DEFAULT_LIMITS_FILE).rows():
            limits_store.upsert(conn, "public", row, "test")
        isr = conn.execute(
            """SELECT "metricType"::text, plan FROM "InfrastructureLimit"
               WHERE service = 'VERCEL_ISR' ORDER BY 1, 2"""
        ).fetchall()
    assert isr == [
        ("READ_OPERATIONS", "vercel-hobby"),
        ("READ_OPERATIONS", "vercel-pro"),
        ("WRITE_OPERATIONS", "vercel-hobby"),
        ("WRITE_OPERATIONS", "vercel-pro"),
    ]
