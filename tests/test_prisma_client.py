"""The round trip with the real Prisma 7 client: Prisma and the Python side read each other's rows.

A portal-like project is laid out in a temporary directory: the example
``prisma/prisma.config.ts``, the committed ``prisma/infrastructure.prisma`` next to a file with
the datasource and generator, and ``tests/prisma/roundtrip.ts``; ``prisma generate`` builds the
client from it. The database is migrated by the code ``pulumi up`` runs
(``jobs.schema.migrate.apply``). Node packages come from ``tests/prisma/node_modules``
(``npm ci`` in scripts/test).

The Python side writes and reads with plain parameterized SQL plus ``jobs.usage.period_usage``:
the jobs' own writers for metrics, limits and recommendations are not built yet (see the
comments at ``write_like_the_jobs``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from jobs.collect import store as metrics_store
from jobs.collect.records import MetricRow
from jobs.limits import store as limits_store
from jobs.limits.model import LimitRow
from jobs.model import METRIC_TYPES, PRIORITIES, SERVICES, STATUSES, canonical_unit
from jobs.recommend import review
from jobs.recommend import store as recommendations_store
from jobs.recommend.advice import Priority
from jobs.recommend.records import Recommendation
from jobs.schema import migrate
from jobs.schema.plan import ENUM_NAMES, SCHEMA_PLAN, TABLE_NAMES
from jobs.usage import BillingPeriod, period_usage

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NODE_PROJECT = ROOT / "tests" / "prisma"
NODE_MODULES = NODE_PROJECT / "node_modules"
NODE_TIMEOUT_SECONDS = 600
# prisma.config.ts reads DATABASE_URL even for commands that never connect.
UNUSED_URL = "postgresql://unused@localhost:5432/unused"
# Prisma 7 checks for its schema engine at start even for `generate`, which never runs it;
# the engine download hosts are unreachable, so it finds this stub instead.
ENGINE_STUB = "#!/bin/sh\necho 'schema engine stub: not available in this test' >&2\nexit 1\n"

TABLE_OF = {
    "metrics": "InfrastructureMetric",
    "limits": "InfrastructureLimit",
    "recommendations": "UpgradeRecommendation",
}


def node_url(dsn: str) -> str:
    """The DSN as a URL node-postgres understands (a socket directory goes in ``?host=``)."""
    params = conninfo_to_dict(dsn)
    user = quote(str(params.pop("user", "")), safe="")
    password = params.pop("password", None)
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    host = str(params.pop("host", "localhost"))
    port = params.pop("port", None)
    dbname = quote(str(params.pop("dbname", "")), safe="")
    if host.startswith("/"):
        params["host"] = host
        host = "localhost"
    netloc = f"{auth}@{host}" if auth else host
    if port:
        netloc += f":{port}"
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{netloc}/{dbname}{query}"


def run_node(project: Path, *command: str, database_url: str = UNUSED_URL) -> str:
    """Run a tool of the project's node_modules; its stdout, or a failure showing stderr."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PRISMA_SCHEMA_ENGINE_BINARY": str(project / "schema-engine-stub"),
        "CHECKPOINT_DISABLE": "1",  # no update check over the network
        "PRISMA_HIDE_UPDATE_MESSAGE": "1",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [str(project / "node_modules" / ".bin" / command[0]), *command[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        f"\n{result.stdout[-2000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A portal-like project with the Prisma client generated from the committed models."""
    if not (NODE_MODULES / ".bin" / "prisma").exists():
        pytest.fail(
            "tests/prisma/node_modules is missing: run ./scripts/test, which installs it with "
            "npm ci (Node.js 20.19+ and npm needed)"
        )
    project = tmp_path_factory.mktemp("portal")
    (project / "package.json").write_text('{"private": true, "type": "module"}\n')
    (project / "node_modules").symlink_to(NODE_MODULES)
    schema = project / "prisma" / "schema"
    schema.mkdir(parents=True)
    shutil.copy(ROOT / "prisma" / "infrastructure.prisma", schema / "infrastructure.prisma")
    shutil.copy(NODE_PROJECT / "client.prisma", schema / "client.prisma")
    shutil.copy(ROOT / "prisma" / "prisma.config.ts", project / "prisma.config.ts")
    for name in ("roundtrip.ts", "tsconfig.json"):
        shutil.copy(NODE_PROJECT / name, project / name)
    stub = project / "schema-engine-stub"
    stub.write_text(ENGINE_STUB)
    stub.chmod(0o755)
    run_node(project, "prisma", "generate")
    return project


@pytest.fixture
def pulumi_migrated_db(empty_db: str) -> str:
    """A new database migrated by the code `pulumi up` runs for each object, in plan order."""
    with psycopg.connect(empty_db) as conn:
        for obj in SCHEMA_PLAN:
            migrate.apply(conn, migrate.ObjectSpec.from_plan(obj, "public"))
    return empty_db


def from_prisma(text: str) -> datetime:
    """A DateTime as Prisma's JSON writes it (``…Z``), as naive UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def prisma_json(value: Any) -> Any:
    """A value read by psycopg as Prisma's JSON output spells it (Dates as ISO 8601, UTC)."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000Z"
    return value


def python_rows(dsn: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every table as Python reads it, by table key and id."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        for key, table in TABLE_OF.items():
            cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            rows[key] = {
                row["id"]: {name: prisma_json(value) for name, value in row.items()}
                for row in cur.fetchall()
            }
    return rows


def by_id(prisma: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {key: {row["id"]: row for row in prisma[key]} for key in TABLE_OF}


def mismatches(python: dict[str, dict[str, dict]], prisma: dict[str, dict[str, dict]]) -> list[str]:
    """Every (table, id, column) whose value differs between the two reads, for the message."""
    found = []
    for key, table in TABLE_OF.items():
        for id_ in python[key].keys() | prisma[key].keys():
            ours, theirs = python[key].get(id_), prisma[key].get(id_)
            if ours is None or theirs is None:
                found.append(f"{table} {id_}: only {'Prisma' if ours is None else 'Python'} has it")
                continue
            found += [
                f"{table} {id_} {name}: Python {ours.get(name)!r}, Prisma {theirs.get(name)!r}"
                for name in ours.keys() | theirs.keys()
                if ours.get(name) != theirs.get(name)
            ]
    return sorted(found)


def assert_every_column_used(rows: dict[str, dict[str, dict[str, Any]]], dsn: str) -> None:
    """Each column holds a value in some row, and each nullable column also a NULL."""
    with psycopg.connect(dsn) as conn:
        for key, table in TABLE_OF.items():
            columns = conn.execute(
                """SELECT attname, attnotnull FROM pg_attribute
                   WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped""",
                [sql.Identifier(table).as_string(conn)],
            ).fetchall()
            values = list(rows[key].values())
            for name, not_null in columns:
                assert any(v[name] is not None for v in values), f"{table}.{name} never set"
                if not not_null:
                    assert any(v[name] is None for v in values), f"{table}.{name} never NULL"


def test_example_config_declares_every_table_and_enum_external(portal: Path) -> None:
    config = json.loads(run_node(portal, "tsx", "roundtrip.ts", "config"))
    assert config["experimental"] == {"externalTables": True}
    assert sorted(config["tables"]["external"]) == sorted(TABLE_NAMES)
    assert sorted(config["enums"]["external"]) == sorted(ENUM_NAMES)


def test_committed_models_are_as_prisma_format_writes_them(portal: Path) -> None:
    copy = portal / "format-check" / "infrastructure.prisma"
    copy.parent.mkdir()
    shutil.copy(portal / "prisma" / "schema" / "infrastructure.prisma", copy)
    shutil.copy(portal / "prisma" / "schema" / "client.prisma", copy.parent / "client.prisma")
    run_node(portal, "prisma", "format", "--schema", str(copy.parent))
    assert copy.read_text() == (ROOT / "prisma" / "infrastructure.prisma").read_text()


def test_the_portal_script_type_checks_against_the_generated_client(portal: Path) -> None:
    run_node(portal, "tsc", "-p", "tsconfig.json")


def test_rows_prisma_writes_read_back_equal_in_python(
    portal: Path, pulumi_migrated_db: str
) -> None:
    written = json.loads(
        run_node(portal, "tsx", "roundtrip.ts", "write", database_url=node_url(pulumi_migrated_db))
    )
    rows = python_rows(pulumi_migrated_db)

    assert mismatches(rows, by_id(written)) == [], "\n".join(mismatches(rows, by_id(written)))
    assert_every_column_used(rows, pulumi_migrated_db)
    metrics, limits, recommendations = (list(rows[k].values()) for k in TABLE_OF)
    assert {m["service"] for m in metrics} == set(SERVICES)
    assert {m["metricType"] for m in metrics} == set(METRIC_TYPES)
    assert {x["service"] for x in limits} == set(SERVICES)
    assert {x["metricType"] for x in limits} == set(METRIC_TYPES)
    assert {r["priority"] for r in recommendations} == set(PRIORITIES)
    # One of each status written; the review moved the PENDING one to APPROVED, and the
    # row written with defaults is PENDING.
    assert {r["status"] for r in recommendations} == set(STATUSES)
    for key, id_ in written["deleted"].items():
        assert id_ not in rows[f"{key}s"], f"deleted {key} {id_} is still there"
    # What the Prisma schema cannot express, the database still enforces on Prisma's writes.
    assert written["duplicateOpen"] == "P2002"
    assert written["checkViolation"] == "InfrastructureMetric_value_check"

    # Prisma writes DateTime in UTC into TIMESTAMP(3): no shift, milliseconds kept.
    with psycopg.connect(pulumi_migrated_db) as conn:
        first = conn.execute(
            """SELECT "timestamp" FROM "InfrastructureMetric" WHERE source = 'prisma:0'"""
        ).fetchone()
        period = BillingPeriod.containing(datetime(2026, 11, 15))
        usage = period_usage(conn, period, as_of=period.end)
    assert first == (datetime(2026, 11, 1, 0, 0, 0, 123000),)
    # A job reads Prisma's metrics: one window per series, so usage is each row's value
    # (the windows of November's first UTC hours belong to October in Los Angeles).
    assert {key: (u.value, prisma_json(u.through)) for key, u in usage.items()} == {
        (m["service"], m["metricType"]): (m["value"], m["windowEnd"])
        for m in metrics
        if period.holds(from_prisma(m["timestamp"]), from_prisma(m["windowEnd"]))
    }

    # The database fills what Prisma leaves out: ids, creation times, the column defaults.
    defaults = next(r for r in recommendations if r["recommendedPlan"] == "defaults")
    assert (defaults["priority"], defaults["status"]) == ("MEDIUM", "PENDING")
    assert (defaults["evidence"], defaults["reviewHistory"], defaults["roi"]) == ({}, [], None)
    assert defaults["currentMonthlyCost"] == 0
    plain_limit = next(x for x in limits if x["plan"] == "hobby" and x["updatedBy"] is None)
    assert (plain_limit["warningThreshold"], plain_limit["criticalThreshold"]) == (0.75, 0.9)
    assert plain_limit["isHardLimit"] is False
    assert all(len(r["id"]) == 36 for table in rows.values() for r in table.values())


def write_like_the_jobs(dsn: str) -> dict[str, Any]:
    """Rows written by the jobs' own writers: the collectors' metric upsert, the limits sync
    and the recommender's insert and review; the database fills ids, createdAt, updatedAt.
    Returns the recommendation's evidence and review history as Python reads them back."""
    evidence = {
        "window": {"from": "2026-10-01T00:00:00Z", "to": "2026-11-25T00:00:00Z", "days": 55},
        "methods": ["least_squares", "backtest"],
        "inputs": {"included": 100.0, "rate": 0.15, "forecast": [1.5, 2.25, 1e-9]},
        "backtestError": 0.0731,
        "notes": "Zürich — 東京 🚀 'quoted' \"double\"",
    }
    metrics = [
        MetricRow(
            SERVICES[i % len(SERVICES)],
            metric,
            0.1 * (i + 1),
            datetime(2026, 11, 2, i, 0, 0, 456789),  # stored rounded to milliseconds
            datetime(2026, 11, 2, i + 1, 0, 0, 456789),
            "jobs:vercel",
            {"charge": {"ServiceName": f"Service {i}"}, "rows": i},
        )
        for i, metric in enumerate(METRIC_TYPES)
    ]
    limits = [
        LimitRow(
            service=service,
            metric_type=METRIC_TYPES[i],
            plan="hobby",
            limit_value=100.0 + i,
            unit=canonical_unit(METRIC_TYPES[i]),
            warning=0.7,
            critical=0.85,
            included_amount=100.0 + i,
            overage_unit_price=0.15,
            is_hard=i % 2 == 0,
            source_url="https://vercel.com/docs/limits",
            source_date=date(2026, 11, 25),
        )
        for i, service in enumerate(SERVICES)
    ]
    with psycopg.connect(dsn) as conn:
        conn.autocommit = True
        metrics_store.write(
            conn, "jobs:vercel", metrics, through=None, run_id="prisma", at=datetime(2026, 11, 25)
        )
        for row in limits:
            limits_store.upsert(conn, "public", row, "limits.yaml")
        conn.autocommit = False
        with conn.transaction():
            rid = recommendations_store.insert_recommendation(
                conn,
                Recommendation(
                    account="vercel-team",
                    service="VERCEL_BANDWIDTH",
                    current_plan="hobby",
                    recommended_plan="pro",
                    priority=Priority.HIGH,
                    title="Move to Pro before bandwidth runs out",
                    reasoning="Forecast crosses 100 GB on 2026-11-28",
                    current_usage={"VERCEL_BANDWIDTH/BANDWIDTH_GB": 84.2},
                    projected_usage={"VERCEL_BANDWIDTH/BANDWIDTH_GB": 131.9},
                    breach_at=datetime(2026, 11, 28, 6, 30, 0, 250000),
                    current_cost=0,
                    projected_cost=35.5,
                    upgraded_cost=20,
                    overage_avoided=15.5,
                    revenue_at_risk=1200.25,
                    roi=0.775,
                    payback_days=16.5,
                    confidence=0.82,
                    evidence=None,
                    raw_evidence=evidence,
                    expires_at=datetime(2026, 12, 1),
                    last_seen_at=datetime(2026, 11, 25, 9, 45),
                ),
            )
        review.change_status(
            conn,
            rid,
            "review",
            by="alice",
            now=datetime(2026, 11, 25, 9, 15),
            note="checked",
            reason="not-needed",
        )
        (stored,) = conn.execute(
            """SELECT evidence, "reviewHistory" FROM "UpgradeRecommendation" WHERE id = %s""",
            [rid],
        ).fetchall()
    return {"evidence": stored[0], "reviewHistory": stored[1]}


def test_rows_the_jobs_write_read_back_equal_through_prisma(
    portal: Path, pulumi_migrated_db: str
) -> None:
    written = write_like_the_jobs(pulumi_migrated_db)

    read = json.loads(
        run_node(portal, "tsx", "roundtrip.ts", "read", database_url=node_url(pulumi_migrated_db))
    )

    rows = python_rows(pulumi_migrated_db)
    assert mismatches(rows, by_id(read)) == []
    assert [len(rows[k]) for k in TABLE_OF] == [len(METRIC_TYPES), len(SERVICES), 1]
    (recommendation,) = read["recommendations"]
    assert recommendation["evidence"] == written["evidence"]
    assert recommendation["reviewHistory"] == written["reviewHistory"]
    assert recommendation["projectedBreachAt"] == "2026-11-28T06:30:00.250Z"
    assert {m["timestamp"][-7:] for m in read["metrics"]} == {"00.457Z"}
    assert {x["sourceDate"] for x in read["limits"]} == {"2026-11-25T00:00:00.000Z"}
    assert all(r["createdAt"] and r["updatedAt"] for k in TABLE_OF for r in read[k])
