"""Benchmark: evaluate the Pulumi program under mocks with 50, 500 and 2,000 limit rows.

Run: python bench/limits_program.py [--repeat N]

Each size gets a generated limits file (distinct service x metric x plan keys, spread over as
many plans as needed); the whole ``__main__.py`` runs under ``pulumi.runtime.set_mocks``, as
in the tests: load and validate the file, declare the schema objects, one resource per row,
and the prune. Every run is a fresh process, as a real `pulumi preview` is, and only the
program's evaluation is timed (not interpreter start-up and imports). Prints the median of
each size, the time per row, and the ratios between sizes: linear growth gives 2000/500
close to 4; 500/50 stays below 10 while the fixed cost (schema objects, stack) shows.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs  # noqa: E402

from jobs.model import METRIC_TYPES, SERVICES, canonical_unit  # noqa: E402
from tests.support.program import run_program  # noqa: E402

SIZES = (50, 500, 2000)


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[Any] | None]:
        return {}, None


def limits_file(rows: int) -> str:
    """A valid limits file with ``rows`` distinct rows."""
    per_plan = len(SERVICES) * len(METRIC_TYPES)
    plans = -(-rows // per_plan)
    lines = [
        "thresholds: {warning: 0.75, critical: 0.9, resolve: 0.7}",
        "business: {monthly_revenue_usd: 0, degraded_hours: 0}",
        "sources:",
        '  bench: {url: "https://example.com/pricing", read: 2026-11-25}',
        "plans:",
        *(
            f"  plan-{p}: {{vendor: Bench, monthly_price_usd: {p}, source: bench}}"
            for p in range(plans)
        ),
        "services: {}",
        "limits:",
    ]
    written = 0
    for p in range(plans):
        for service in SERVICES:
            for metric in METRIC_TYPES:
                if written == rows:
                    break
                lines.append(
                    f"  - {{service: {service}, metric: {metric}, plan: plan-{p}, "
                    f"limit: {written + 1} {canonical_unit(metric)}, "
                    f"overage: $0.01 per {canonical_unit(metric)}}}"
                )
                written += 1
    return "\n".join(lines) + "\n"


def measure(path: Path) -> float:
    """Seconds to evaluate the program once, in this process."""
    start = time.perf_counter()
    run_program(EchoMocks(), {"limitsFile": str(path)})
    return time.perf_counter() - start


def measure_fresh(path: Path) -> float:
    """``measure`` in a new interpreter, so no run inherits another's garbage."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per size (default 5)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(measure(args.child))
        return
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in SIZES:
            path = Path(tmp) / f"limits-{rows}.yaml"
            path.write_text(limits_file(rows), encoding="utf-8")
            times = [measure_fresh(path) for _ in range(args.repeat)]
            medians[rows] = statistics.median(times)
            print(
                f"{rows:>5} rows: median {medians[rows]:.3f} s "
                f"({medians[rows] / rows * 1000:.2f} ms/row; runs: "
                + ", ".join(f"{t:.3f}" for t in times)
                + ")",
                flush=True,
            )
    for small, large in itertools.pairwise(SIZES):
        print(
            f"ratio {large}/{small}: {medians[large] / medians[small]:.2f} "
            f"(rows x{large / small:g})"
        )


if __name__ == "__main__":
    main()
