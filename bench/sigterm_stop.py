"""How fast a job stops on SIGTERM: the time from the signal to the process's exit.

Three places a cancelled GitHub Action can catch a job: ``collect`` waiting to write (its
transaction open), ``collect`` waiting on a slow API, ``recommend`` waiting to write. Each
is timed REPEATS times, interleaved, next to a whole ``collect`` run for scale. Target: a
few seconds at most, well inside GitHub's grace period before SIGKILL (7.5 s after SIGINT,
2.5 s more after SIGTERM).

    python bench/sigterm_stop.py [REPEATS]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import ROOT, database, machine, median

from jobs.cli import main
from tests.support import faults
from tests.support.fake_apis import FakeApis, Reply
from tests.support.workload import Workload


def job(dsn: str, env: dict[str, str], *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", *argv],
        cwd=ROOT,
        env=os.environ | env | {"DATABASE_URL": dsn},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stopped_after(process: subprocess.Popen[str]) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    elapsed = time.perf_counter() - started
    assert code == 128 + signal.SIGTERM, code
    return elapsed


def while_writing(dsn: str, env: dict[str, str], table: str, *argv: str) -> float:
    with faults.holding_lock(dsn, table):
        process = job(dsn, env, *argv)
        faults.waiting_on_lock(dsn, f'INSERT INTO "{table}"', process)
        return stopped_after(process)


def while_fetching(dsn: str, env: dict[str, str], apis: FakeApis) -> float:
    apis.script("/v1/billing", Reply(delay=60))
    asked = len(apis.calls("/v1/billing"))  # earlier slow answers may still be pending
    process = job(dsn, env, "collect")
    while len(apis.calls("/v1/billing")) == asked:
        time.sleep(0.01)
    return stopped_after(process)


def whole_run(dsn: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = job(dsn, env, "collect")
    assert process.wait(timeout=300) == 0
    return time.perf_counter() - started


def main_bench(repeats: int) -> None:
    work = Workload.for_today()
    times: dict[str, list[float]] = {
        "collect, waiting to write": [],
        "collect, waiting on an API": [],
        "recommend, waiting to write": [],
        "whole collect run (for scale)": [],
    }
    with database() as dsn, FakeApis() as apis, tempfile.TemporaryDirectory() as scratch:
        work.populate(apis)
        env = work.env(apis)
        os.environ.update(env | {"DATABASE_URL": dsn})
        assert main(["collect"]) == 0  # data for recommend
        assert main(["collect", "--focus-file", str(work.focus_file(Path(scratch)))]) == 0
        for _ in range(repeats):
            times["collect, waiting to write"].append(
                while_writing(dsn, env, "CollectionWatermark", "collect")
            )
            times["collect, waiting on an API"].append(while_fetching(dsn, env, apis))
            times["recommend, waiting to write"].append(
                while_writing(dsn, env, "UpgradeRecommendation", *work.recommend_args())
            )
            times["whole collect run (for scale)"].append(whole_run(dsn, env))
    print(f"machine: {machine()}")
    print(f"repeats: {repeats} (medians), from SIGTERM to exit (code 143)")
    scale = median(times["whole collect run (for scale)"])
    for label, values in times.items():
        print(f"{label:32} {median(values):6.3f} s  ({median(values) / scale:.2f}x a whole run)")


if __name__ == "__main__":
    main_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
