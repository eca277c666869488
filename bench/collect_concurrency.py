"""Concurrency of the collection job: 20 sources that each answer after 200 ms on loopback.

Times whole runs (``jobs.collect.runner.collect``: connect, lock, fetch, write, record) with
one Upstash database configured and with twenty, against a local server that delays every
answer by 200 ms. Fetched one after the other, twenty would take 20x as long; fetched
concurrently the run should take at most 1.5x the one-source run. The server runs in a
process of its own, as a provider's would, so its threads do not compete with the job for
the interpreter.

    python bench/collect_concurrency.py [SOURCES] [REPEATS]
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from _support import database, machine, median

from jobs.collect import config
from jobs.collect.runner import collect
from tests.support.fake_apis import UPSTASH_EMAIL, UPSTASH_KEY, FakeApis, upstash_stats

DELAY = 0.2
NOW = datetime(2026, 11, 20, 10, 0)


def serve(ids: list[str], stats: dict[str, Any], pipe: Connection) -> None:
    """The provider side: answer until told to stop, then report the peak concurrency."""
    with FakeApis(delay=DELAY) as apis:
        apis.upstash_stats = dict.fromkeys(ids, stats)
        pipe.send(apis.url)
        pipe.recv()
        pipe.send(apis.max_in_flight)


def run_once(url: str, dsn: str, ids: list[str]) -> float:
    env = {
        "UPSTASH_EMAIL": UPSTASH_EMAIL,
        "UPSTASH_API_KEY": UPSTASH_KEY,
        "UPSTASH_DATABASE_IDS": ",".join(ids),
        "UPSTASH_API_URL": url,
    }
    started = time.perf_counter()
    report = collect(config.from_env(env), dsn, now=NOW, lock_wait=0)
    elapsed = time.perf_counter() - started
    assert report.exit_code == 0 and len(report.outcomes) == len(ids)
    return elapsed


def main() -> None:
    sources = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    days = [NOW.replace(hour=0) - timedelta(days=d) for d in (4, 3, 2, 1, 0)]
    stats = upstash_stats(days, [100, 200, 300, 400, 500], 5_000_000)
    ids = [f"kv-{i}" for i in range(sources)]
    one, many = [], []
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(ids, stats, theirs), daemon=True)
    server.start()
    try:
        url = ours.recv()
        with database() as dsn:
            run_once(url, dsn, ids)  # warm up: first writes, connections
            for _ in range(repeats):  # interleaved, so both see the same machine load
                one.append(run_once(url, dsn, ids[:1]))
                many.append(run_once(url, dsn, ids))
        ours.send("done")
        peak = ours.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    one_s, many_s = median(one), median(many)
    print(f"machine: {machine()}")
    print(f"each source answers after {DELAY * 1000:.0f} ms; repeats: {repeats} (medians)")
    print(f"run with 1 source:   {one_s:.3f} s")
    print(f"run with {sources} sources: {many_s:.3f} s  (requests in flight at once: {peak})")
    print(f"ratio {sources} sources / 1 source: {many_s / one_s:.2f} (target <= 1.50)")


if __name__ == "__main__":
    main()
