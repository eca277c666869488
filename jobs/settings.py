"""Settings read from the environment, validated once, before anything runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobs import embedded
from jobs.db import validate_dsn
from jobs.paths import EMBEDDED_DATA_DIR


@dataclass(frozen=True)
class Database:
    dsn: str
    embedded: bool

    @property
    def origin(self) -> str:
        return f"embedded PostgreSQL in {EMBEDDED_DATA_DIR}" if self.embedded else "DATABASE_URL"


def database(env: Mapping[str, str] | None = None, data_dir: Path = EMBEDDED_DATA_DIR) -> Database:
    """``DATABASE_URL`` when set, else the embedded server in the project (started on demand)."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return Database(validate_dsn(url, "DATABASE_URL"), embedded=False)
    return Database(embedded.start(data_dir), embedded=True)
