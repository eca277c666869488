"""Turn our errors into Pulumi's RunError, which ends the program with the message only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pulumi

from jobs.errors import MonitoringError


@contextlib.contextmanager
def run_errors() -> Iterator[None]:
    try:
        yield
    except MonitoringError as exc:
        raise pulumi.RunError(str(exc)) from None
