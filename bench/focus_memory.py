"""Peak memory of reading a FOCUS file (`collect --focus-file`) as the file grows.

Each size is a Vercel-shaped FOCUS JSON-lines export (real names, units, Los Angeles days,
Tags, some null quantities; the same 30 days, 6 meters and 100 projects, more lines per
series as the file grows) written to a temporary directory, then read by
``jobs.collect.sources.focus_file.FocusFile(path).read()`` in a fresh Python process
whose peak resident set size (``ru_maxrss``) is reported, next to that of a process that
only imports the module (the baseline). Target: the peak above the baseline does not grow
with the file (memory independent of file size), up to 200 MB.

    python bench/focus_memory.py [MAX_MB] [REPEATS]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from _support import ROOT, machine, median

NAMES = (
    ("Fast Data Transfer", "gigabyte"),
    ("Edge Requests", "Requests"),
    ("Function Invocations", "Invocations"),
    ("Fluid Active CPU", "hour"),
    ("ISR Reads", "Reads"),
    ("Observability Plus", None),
)
CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from jobs.collect.sources.focus_file import FocusFile
if len(sys.argv) > 1:
    batch = FocusFile(Path(sys.argv[1])).read()
    assert batch.rows
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_export(path: Path, megabytes: float) -> int:
    """A FOCUS export of about ``megabytes`` MB; returns its line count."""
    start = datetime(2025, 1, 1, 8)
    target = megabytes * 1_000_000
    written = lines = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            # The same 30 days, services and projects whatever the size: only the number of
            # lines grows (what the job keeps grows with series x days, not with lines).
            day = start + timedelta(days=lines // 600 % 30)
            name, unit = NAMES[lines % len(NAMES)]
            record = {
                "BilledCost": 0.0,
                "BillingCurrency": "USD",
                "ChargeCategory": "Usage",
                "ChargePeriodStart": day.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "ChargePeriodEnd": (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "ConsumedQuantity": None if unit is None else lines % 997 + 0.5,
                "ConsumedUnit": unit,
                "EffectiveCost": (lines % 89) / 1000,
                "ServiceName": name,
                "ServiceProviderName": "Vercel",
                "Tags": {"ProjectId": f"prj_{lines % 100}", "ProjectName": f"p{lines % 100}"},
            }
            text = json.dumps(record) + "\n"
            out.write(text)
            written += len(text)
            lines += 1
    return lines


def peak_kib(*argv: str) -> int:
    child = CHILD.format(root=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", child, *argv], check=True, capture_output=True, text=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def main() -> None:
    largest = float(sys.argv[1]) if len(sys.argv) > 1 else 200
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sizes = [s for s in (12.5, 25, 50, 100, 200) if s <= largest]
    print(f"machine: {machine()}")
    print(f"repeats: {repeats} (medians of the peak RSS of a fresh process)")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for size in sizes:
            path = Path(tmp) / f"focus-{size:g}mb.jsonl"
            files.append((size, path, write_export(path, size)))
        baseline = median([float(peak_kib()) for _ in range(repeats)])
        print(f"baseline (import only): {baseline / 1024:.1f} MiB")
        peaks = []
        for size, path, count in files:
            peak = median([float(peak_kib(str(path))) for _ in range(repeats)])
            peaks.append(peak)
            print(
                f"{size:6.1f} MB, {count:>9,} lines: peak {peak / 1024:7.1f} MiB, "
                f"{(peak - baseline) / 1024:6.1f} MiB above the baseline"
            )
        print(
            f"peak RSS, {sizes[-1]:g} MB file / {sizes[0]:g} MB file: "
            f"{peaks[-1] / peaks[0]:.2f} (target: about 1, independent of the file's size)"
        )


if __name__ == "__main__":
    main()
