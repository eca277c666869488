"""Settings read from the environment, validated once, before anything runs."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobs import embedded
from jobs.db import validate_dsn
from jobs.errors import ConfigError
from jobs.paths import EMBEDDED_DATA_DIR


@dataclass(frozen=True)
class Database:
    dsn: str
    embedded: bool

    @property
    def origin(self) -> str:
        return f"embedded PostgreSQL in {EMBEDDED_DATA_DIR}" if self.embedded else "DATABASE_URL"


# A database of the embedded server other than the default (the demo keeps each team in one).
EMBEDDED_DATABASE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def in_ci(env: Mapping[str, str]) -> bool:
    """Running in CI: ``GITHUB_ACTIONS`` or ``CI`` set (to anything but false/0)."""
    return any(
        env.get(name, "").strip().lower() not in ("", "false", "0")
        for name in ("GITHUB_ACTIONS", "CI")
    )


def database(env: Mapping[str, str] | None = None, data_dir: Path = EMBEDDED_DATA_DIR) -> Database:
    """``DATABASE_URL`` when set, else the embedded server in the project (started on demand),
    database ``EMBEDDED_DATABASE`` (default ``monitoring``).

    Never the embedded server in CI: there an empty ``DATABASE_URL`` means a secret is not
    set yet, and a throw-away server on the runner would only fail later, and obscurely.
    """
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return Database(validate_dsn(url, "DATABASE_URL"), embedded=False)
    if in_ci(env):
        raise ConfigError(
            "DATABASE_URL is empty in CI, and CI never uses the embedded PostgreSQL: set the "
            "repository secret JOBS_DATABASE_URL (collect and recommend workflows) or "
            "DATABASE_URL (preview, deploy, drift), see docs/operations.md"
        )
    name = env.get("EMBEDDED_DATABASE", "").strip() or embedded.DATABASE_NAME
    if not EMBEDDED_DATABASE.match(name):
        raise ConfigError(
            f"EMBEDDED_DATABASE {name!r} must be lowercase letters, digits and '_', "
            "starting with a letter or '_', at most 63 characters"
        )
    return Database(embedded.start(data_dir, name), embedded=True)


DEPLOY_WORKFLOW = "run the deploy workflow (pulumi up), see docs/operations.md"


def schema_advice(env: Mapping[str, str] | None = None) -> str:
    """How to bring the schema up, for where this runs: the deploy workflow in CI, the local
    bootstrap on the embedded server, else Pulumi (or the bootstrap, without Pulumi)."""
    env = os.environ if env is None else env
    if in_ci(env):
        return DEPLOY_WORKFLOW
    if not env.get("DATABASE_URL", "").strip():
        return "run `python -m jobs schema up`"
    return "run `pulumi up` (or `python -m jobs schema up` for a database Pulumi does not manage)"


def limits_advice(env: Mapping[str, str] | None = None) -> str:
    """How to load limits.yaml into InfrastructureLimit, for where this runs: only the Pulumi
    program does (the deploy workflow in CI)."""
    env = os.environ if env is None else env
    return DEPLOY_WORKFLOW if in_ci(env) else "run `pulumi up`"
