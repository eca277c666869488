"""SIGTERM and SIGINT as a clean stop instead of an abrupt end.

GitHub Actions cancels a job with SIGINT, then SIGTERM, then SIGKILL. While a command runs,
the first of these raises ``Interrupted`` in the main thread: the statement in progress is
cancelled, its transaction rolls back, the command reports that it was interrupted and
exits with 128 + the signal number. A second signal gets the default action, so a cleanup
that hangs can still be ended.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from jobs.errors import Interrupted

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stop(signum: int, _frame: FrameType | None) -> None:
    for handled in SIGNALS:
        signal.signal(handled, signal.SIG_DFL)
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_cleanly() -> Iterator[None]:
    """Handle SIGTERM and SIGINT as ``Interrupted`` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {handled: signal.getsignal(handled) for handled in SIGNALS}
    for handled in SIGNALS:
        signal.signal(handled, _stop)
    try:
        yield
    finally:
        for handled, handler in previous.items():
            signal.signal(handled, handler)
