"""The jobs behind a transaction-pooling PgBouncer (what Neon's ``-pooler`` URLs are): each
transaction may run on another server connection, so session state (session advisory locks,
temporary tables kept across transactions, server-side prepared statements, the ``options``
startup parameter) does not hold. A real PgBouncer, started per test."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from jobs import db
from jobs.collect import config, store
from jobs.collect.runner import collect
from jobs.errors import CollectionBusy
from tests.support import pgbouncer
from tests.support.cli import run

DATA = Path(__file__).parent / "data"
FOCUS = DATA / "focus-neon.jsonl"

if not pgbouncer.available():
    if os.environ.get("CI"):
        raise RuntimeError("pgbouncer is missing: .ci/run installs Debian's pgbouncer")
    pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)", allow_module_level=True)


@pytest.fixture
def pooled(migrated_db: str) -> Iterator[str]:
    with pgbouncer.transaction_pooler(migrated_db, pool_size=2) as url:
        yield url


def _backends(url: str, count: int) -> set[int]:
    """The server processes ``count`` transactions of one pooled client ran on."""
    with db.connect(url, autocommit=True) as conn:
        return {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for _ in range(count)}


def _try_lock(url: str) -> bool:
    with db.connect(url) as conn:
        row = conn.execute(store.query("collect", "try_lock"), {"key": store.LOCK_KEY}).fetchone()
        return bool(row[0])


def test_the_pooler_really_moves_transactions_between_server_connections(pooled: str) -> None:
    # The premise: without this, nothing below would prove anything.
    holders = [psycopg.connect(pooled, prepare_threshold=None) for _ in range(2)]
    try:
        pids = [h.execute("SELECT pg_backend_pid()").fetchone()[0] for h in holders]
        assert len(set(pids)) == 2  # both server connections are busy in transactions
        for h in holders:
            h.rollback()
        seen: set[int] = set()
        with (
            psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as a,
            psycopg.connect(pooled, prepare_threshold=None) as b,
        ):
            for _ in range(20):
                b.execute("SELECT 1")  # b pins one server connection in a transaction...
                seen.add(a.execute("SELECT pg_backend_pid()").fetchone()[0])  # a gets the other
                b.rollback()
                seen.add(a.execute("SELECT pg_backend_pid()").fetchone()[0])
        assert seen <= set(pids)
    finally:
        for h in holders:
            h.close()


def test_db_connect_works_through_the_pooler_in_utc(pooled: str) -> None:
    with db.connect(pooled) as conn:
        for _ in range(8):  # more than psycopg's prepare threshold: nothing is prepared
            zone = conn.execute("SELECT current_setting('TimeZone')").fetchone()[0]
            assert zone == "UTC"
        conn.rollback()


def test_the_run_lock_holds_across_connections_through_the_pooler(pooled: str) -> None:
    with store.run_lock(pooled, 0):
        # Other clients' transactions come and go on the pool's other server connection...
        _backends(pooled, 10)
        # ...and none of them gets the lock, whether it tries or waits.
        assert not _try_lock(pooled)
        with pytest.raises(CollectionBusy), store.run_lock(pooled, 0.3):
            pass
    # Released with the block: the next run takes it.
    assert _try_lock(pooled)
    with store.run_lock(pooled, 0):
        pass


def test_a_run_waits_for_the_lock_through_the_pooler(pooled: str) -> None:
    released = threading.Event()
    order: list[str] = []

    def first() -> None:
        with store.run_lock(pooled, 0):
            order.append("first holds")
            released.wait(5)
            order.append("first releases")

    thread = threading.Thread(target=first)
    thread.start()
    try:
        while not order:
            threading.Event().wait(0.01)
        threading.Timer(0.3, released.set).start()
        with store.run_lock(pooled, 10):
            order.append("second holds")
    finally:
        thread.join()
    assert order == ["first holds", "first releases", "second holds"]


def test_collect_and_recommend_run_through_the_pooler(
    pooled: str,
    migrated_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = config.from_env({})
    first = collect(env, pooled, files=[FOCUS], lock_wait=0)
    again = collect(env, pooled, files=[FOCUS], lock_wait=0)
    assert first.exit_code == 0 and again.exit_code == 0, first.outcomes
    assert sum(o.written.new for o in first.outcomes) > 0
    assert sum(o.written.new + o.written.updated for o in again.outcomes) == 0
    with store.run_lock(pooled, 0), pytest.raises(CollectionBusy):
        collect(env, pooled, files=[FOCUS], lock_wait=0)
    with psycopg.connect(migrated_db) as conn:
        duplicates = conn.execute(
            'SELECT count(*) FROM (SELECT 1 FROM "InfrastructureMetric" '
            'GROUP BY service, "metricType", source, "timestamp" HAVING count(*) > 1) d'
        ).fetchone()
        assert duplicates == (0,)
    monkeypatch.setenv("DATABASE_URL", pooled)
    code, out, err = run(capsys, "recommend", "--now", datetime(2026, 11, 25).isoformat())
    assert code == 0 and out.strip(), err
