"""``python -m jobs limits diff`` against a database with limits and this period's metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.cli import main
from jobs.limits import store
from jobs.limits.changes import Action, compare, impacts
from jobs.limits.loader import parse
from jobs.recommend.evaluation import State
from jobs.usage import BillingPeriod

DATA = Path(__file__).parent / "data"
# What the table holds (applied earlier), and the pull request with every kind of change.
BEFORE = (DATA / "limits_diff_before.yaml").read_text(encoding="utf-8")
AFTER = (DATA / "limits_diff_after.yaml").read_text(encoding="utf-8")
USAGE = {
    ("VERCEL_FUNCTIONS", "INVOCATIONS"): 800_000.0,
    ("VERCEL_FUNCTIONS", "CPU_HOURS"): 3.8,
    ("VERCEL_BANDWIDTH", "BANDWIDTH_GB"): 70.0,
    ("VERCEL_EDGE_REQUESTS", "REQUESTS"): 950_000.0,
    ("VERCEL_EDGE_CONFIG", "READ_OPERATIONS"): 10_000.0,
    ("VERCEL_KV", "OPERATIONS"): 450_000.0,
}


@pytest.fixture
def database(migrated_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The BEFORE rows applied, one unmanaged row, and this period's usage."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    start = BillingPeriod.containing(datetime.now(UTC)).start
    with psycopg.connect(migrated_db) as conn:
        for row in parse(BEFORE, "before.yaml").rows():
            store.upsert(conn, "public", row, "test")
        conn.execute(
            """INSERT INTO "InfrastructureLimit" (service, "metricType", plan, "limitValue", unit)
               VALUES ('VERCEL_BLOB', 'STORAGE_MB', 'hobby', 1024, 'MB')"""
        )
        for (service, metric), value in USAGE.items():
            # Two windows of one source, summed over the period.
            for hour in (1, 2):
                conn.execute(
                    """INSERT INTO "InfrastructureMetric"
                           (service, "metricType", value, unit, "timestamp", "windowEnd", source)
                       VALUES (%s, %s, %s, 'x', %s, %s, 'test')""",
                    [
                        service,
                        metric,
                        value / 2,
                        start + timedelta(hours=hour),
                        start + timedelta(hours=hour + 1),
                    ],
                )
    return migrated_db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "limits.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_impact_for_raised_lowered_and_removed_thresholds() -> None:
    """The pure part: which alert states move, and which do not."""
    before = parse(BEFORE, "before.yaml")
    after = parse(AFTER, "after.yaml")
    changes = compare(after.rows(), before.rows())
    assert [(c.action, c.key) for c in changes] == [
        (Action.CHANGE, ("VERCEL_BANDWIDTH", "BANDWIDTH_GB", "vercel-hobby")),
        (Action.CHANGE, ("VERCEL_BLOB", "STORAGE_MB", "vercel-hobby")),
        (Action.CHANGE, ("VERCEL_EDGE_CONFIG", "READ_OPERATIONS", "vercel-hobby")),
        (Action.CHANGE, ("VERCEL_EDGE_REQUESTS", "REQUESTS", "vercel-hobby")),
        (Action.REMOVE, ("VERCEL_FUNCTIONS", "CPU_HOURS", "vercel-hobby")),
        (Action.CHANGE, ("VERCEL_FUNCTIONS", "INVOCATIONS", "vercel-hobby")),
        (Action.CHANGE, ("VERCEL_FUNCTIONS", "INVOCATIONS", "vercel-pro")),
        (Action.ADD, ("VERCEL_KV", "OPERATIONS", "upstash-free")),
    ]
    active = {s.service: s.plan for s in after.services}
    moved = {i.key[:2]: (i.before, i.after) for i in impacts(changes, active, USAGE)}
    assert moved == {
        ("VERCEL_BANDWIDTH", "BANDWIDTH_GB"): (State.OK, State.WARNING),  # lowered
        ("VERCEL_EDGE_REQUESTS", "REQUESTS"): (State.CRITICAL, State.OK),  # limit raised
        ("VERCEL_FUNCTIONS", "CPU_HOURS"): (State.CRITICAL, None),  # removed
        ("VERCEL_FUNCTIONS", "INVOCATIONS"): (State.WARNING, State.OK),  # raised
        ("VERCEL_KV", "OPERATIONS"): (None, State.CRITICAL),  # added
    }


def test_diff_in_text(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, AFTER)
    code, out, err = run(capsys, "limits", "diff", path)
    start = BillingPeriod.containing(datetime.now(UTC)).start
    assert (code, err) == (0, "")
    assert out == (
        f'{path} against public."InfrastructureLimit": 1 added, 6 changed, 2 removed\n'
        "  ~ VERCEL_BANDWIDTH/BANDWIDTH_GB/vercel-hobby: warningThreshold 0.75 → 0.6\n"
        "  - VERCEL_BLOB/STORAGE_MB/hobby: limit 1,024 MB, warning 0.75, critical 0.9\n"
        "  ~ VERCEL_BLOB/STORAGE_MB/vercel-hobby: warningThreshold 0.75 → 0.5\n"
        "  ~ VERCEL_EDGE_CONFIG/READ_OPERATIONS/vercel-hobby: warningThreshold 0.75 → 0.5\n"
        "  ~ VERCEL_EDGE_REQUESTS/REQUESTS/vercel-hobby: limitValue 1M requests → 2M requests;"
        " includedAmount 1M requests → 2M requests\n"
        "  - VERCEL_FUNCTIONS/CPU_HOURS/vercel-hobby: limit 4 CPU-hours (hard), warning 0.75,"
        " critical 0.9\n"
        "  ~ VERCEL_FUNCTIONS/INVOCATIONS/vercel-hobby: warningThreshold 0.75 → 0.85\n"
        "  ~ VERCEL_FUNCTIONS/INVOCATIONS/vercel-pro: limitValue 33,333,333 invocations →"
        " 40M invocations; overageUnitPrice $0.6 per 1M invocations →"
        " $0.5 per 1M invocations\n"
        "  + VERCEL_KV/OPERATIONS/upstash-free: limit 500K operations (hard), warning 0.75,"
        " critical 0.9\n"
        f"Alert states, with usage since {start:%Y-%m-%d}:\n"
        "  VERCEL_BANDWIDTH/BANDWIDTH_GB (vercel-hobby) at 70 GB: OK (70%) → WARNING (70%)\n"
        "  VERCEL_EDGE_REQUESTS/REQUESTS (vercel-hobby) at 950K requests:"
        " CRITICAL (95%) → OK (48%)\n"
        "  VERCEL_FUNCTIONS/CPU_HOURS (vercel-hobby) at 3.8 CPU-hours: CRITICAL (95%) → no limit\n"
        "  VERCEL_FUNCTIONS/INVOCATIONS (vercel-hobby) at 800K invocations:"
        " WARNING (80%) → OK (80%)\n"
        "  VERCEL_KV/OPERATIONS (upstash-free) at 450K operations: no limit → CRITICAL (90%)\n"
        "0 rows unchanged\n"
    )


def test_diff_in_markdown_for_a_pull_request(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, AFTER)
    code, out, _ = run(capsys, "limits", "diff", path, "--format", "markdown")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "### Plan limits: 1 added, 6 changed, 2 removed"
    assert (
        "| changed | `VERCEL_FUNCTIONS/INVOCATIONS/vercel-hobby` | warningThreshold 0.75 → 0.85 |"
    ) in lines
    assert (
        "| removed | `VERCEL_BLOB/STORAGE_MB/hobby` | limit 1,024 MB, warning 0.75, critical 0.9 |"
        in lines
    )
    assert (
        "| `VERCEL_FUNCTIONS/CPU_HOURS` | vercel-hobby | 3.8 CPU-hours "
        "| CRITICAL (95%) | no limit |"
    ) in lines
    assert (
        "| `VERCEL_KV/OPERATIONS` | upstash-free | 450K operations | no limit | CRITICAL (90%) |"
        in lines
    )
    assert sum(1 for line in lines if line.startswith("| `")) == 5  # the five alert moves


def test_markdown_is_short_and_stable_when_nothing_changes(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(database) as conn:
        conn.execute("""DELETE FROM "InfrastructureLimit" WHERE plan = 'hobby'""")
    path = write(tmp_path, BEFORE)
    first = run(capsys, "limits", "diff", path, "--format", "markdown")
    assert first == (
        0,
        "### Plan limits: no changes\n\n"
        f'`public."InfrastructureLimit"` matches `{path}` (7 rows).\n',
        "",
    )
    assert run(capsys, "limits", "diff", path, "--format", "markdown") == first
    assert run(capsys, "limits", "diff", path)[1] == (
        f'{path} against public."InfrastructureLimit": no changes\n7 rows unchanged\n'
    )


def test_diff_errors_are_one_line(
    migrated_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    bad = write(tmp_path, BEFORE.replace("limit: 100 GB", "limit: 100 requests"))
    code, out, err = run(capsys, "limits", "diff", bad)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {bad} has 1 problem: {bad}:20: limits[2].limit: unit 'requests' does not fit "
        "BANDWIDTH_GB (allowed: GB, B, bytes, KB, MB, TB)\n"
    )
    # The schema exists but the limits table was dropped (not a first deploy: an error).
    with psycopg.connect(migrated_db) as conn:
        conn.execute('DROP TABLE "InfrastructureLimit"')
    code, _, err = run(capsys, "limits", "diff", write(tmp_path, BEFORE))
    assert code == 2
    assert err.startswith('error: table public."InfrastructureLimit" does not exist')
    assert err.endswith(
        "run `pulumi up` (or `python -m jobs schema up` for a database Pulumi does not manage)\n"
    )
    with pytest.raises(SystemExit) as usage:
        main(["limits", "diff", "--format", "html"])
    assert usage.value.code == 2
    assert "invalid choice: 'html'" in capsys.readouterr().err
