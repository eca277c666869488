"""Print a time just after the last day a FOCUS export covers (ISO 8601, UTC).

The bundled sample's dates are fixed, so `scripts/run` evaluates and reports "as of" the
end of the sample rather than the clock: `recommend --now` and `report --now` take this.
Usage: python scripts/sample_now.py samples/vercel-focus-sample.jsonl
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.collect.sources.focus_file import FocusFile

# An hour after the last window ends: that day is complete, and nothing looks stale.
AFTER_LAST_WINDOW = timedelta(hours=1)


def main(path: str) -> None:
    ends = [row.end for row in FocusFile(Path(path)).read().rows]
    print((max(ends) + AFTER_LAST_WINDOW).isoformat(timespec="minutes"))


if __name__ == "__main__":
    main(sys.argv[1])
