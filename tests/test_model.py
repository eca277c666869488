from __future__ import annotations

import psycopg
import pytest

from jobs.model import METRIC_TYPES, SERVICES, UNITS, UnitMismatch, enum_labels, unit_factor
from jobs.schema.plan import ENUM_NAMES


def test_every_metric_type_has_a_unit_rule() -> None:
    assert set(UNITS) == set(METRIC_TYPES)


def test_enum_labels_read_from_sql_match_the_database(migrated_db: str) -> None:
    with psycopg.connect(migrated_db) as conn:
        for name in ENUM_NAMES:
            rows = conn.execute(
                "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s::regtype "
                "ORDER BY enumsortorder",
                [f'"{name}"'],
            ).fetchall()
            assert tuple(r[0] for r in rows) == enum_labels(name)
    assert "VERCEL_KV" in SERVICES


@pytest.mark.parametrize(
    ("metric", "unit", "factor"),
    [
        ("STORAGE_MB", "MB", 1.0),
        ("STORAGE_MB", " gb ", 1000.0),
        ("STORAGE_MB", "bytes", 1e-6),
        ("BANDWIDTH_GB", "TB", 1000.0),
        ("BUILD_MINUTES", "seconds", 1 / 60),
        ("CPU_HOURS", "CPU-hours", 1.0),
    ],
)
def test_units_convert_to_the_canonical_one(metric: str, unit: str, factor: float) -> None:
    assert unit_factor(metric, unit) == pytest.approx(factor)


def test_a_unit_that_does_not_fit_is_named() -> None:
    with pytest.raises(UnitMismatch, match=r"unit 'GB' does not fit REQUESTS \(allowed: requests"):
        unit_factor("REQUESTS", "GB")
