"""The stack configuration the program reads, validated before any resource exists.

``databaseUrl`` and ``allowDataLoss`` are read by the dynamic providers themselves (in
``configure``), never by the program, so the database credential cannot become one of
their inputs. The program reads the owner's connection only to configure the
pulumi-postgresql provider (``OwnerConnection``): host, port, user and database as plain
inputs, the password as a secret Output (encrypted in the state, as that provider needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi.runtime
from psycopg import conninfo

from jobs.errors import ConfigError
from jobs.paths import PROJECT_ROOT

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_IDENTIFIER_RULE = "letters, digits, _ and $, at most 63 characters, not starting with a digit"
DEFAULT_JOBS_ROLE = "monitoring_jobs"
MIN_PASSWORD_LENGTH = 16
SET_PASSWORD = 'pulumi config set --secret jobsPassword "$(openssl rand -hex 32)"'


def plain_identifier(value: str, what: str) -> str:
    """``value`` when it is a plain PostgreSQL identifier, else a ConfigError naming ``what``."""
    if not _IDENTIFIER.match(value):
        raise ConfigError(
            f"{what} {value!r} is not a plain PostgreSQL identifier ({_IDENTIFIER_RULE})"
        )
    return value


@dataclass(frozen=True)
class OwnerConnection:
    """Where pulumi-postgresql connects: the owner role, which migrates and owns the objects."""

    host: str | None
    port: int | None
    username: str
    database: str
    sslmode: str | None
    password: pulumi.Output[str] | None  # secret

    @classmethod
    def from_dsn(cls, dsn: str, origin: str) -> OwnerConnection:
        params = conninfo.conninfo_to_dict(dsn)  # validated by infra.provider.database_url
        username = str(params.get("user") or "")
        database = str(params.get("dbname") or username)
        if not username:
            raise ConfigError(
                f"{origin} names no user: the owner role that pulumi-postgresql connects as "
                "must be in the URL (postgresql://owner:password@host/db)"
            )
        port = str(params.get("port") or "")
        password = params.get("password")
        return cls(
            host=str(params["host"]) if params.get("host") else None,
            port=int(port) if port.isdigit() else None,
            username=username,
            database=database,
            sslmode=str(params["sslmode"]) if params.get("sslmode") else None,
            password=pulumi.Output.secret(str(password)) if password else None,
        )


@dataclass(frozen=True)
class StackConfig:
    schema: str
    limits_file: str  # as configured, relative to the project directory unless absolute
    jobs_role: str
    jobs_password: pulumi.Output[str]  # secret

    @property
    def limits_path(self) -> Path:
        return PROJECT_ROOT / self.limits_file  # an absolute limits_file wins the join

    @classmethod
    def load(cls, config: pulumi.Config) -> StackConfig:
        limits_file = (config.get("limitsFile") or "limits.yaml").strip()
        schema = plain_identifier(config.get("schema") or "public", "stack config schema")
        jobs_role = plain_identifier(
            config.get("jobsRole") or DEFAULT_JOBS_ROLE, "stack config jobsRole"
        )
        if jobs_role.lower() == "public" or jobs_role.lower().startswith("pg_"):
            raise ConfigError(
                f"stack config jobsRole {jobs_role!r} is reserved by PostgreSQL: choose "
                f"another name (default {DEFAULT_JOBS_ROLE})"
            )
        return cls(
            schema=schema,
            limits_file=limits_file,
            jobs_role=jobs_role,
            jobs_password=_jobs_password(config),
        )


def _jobs_password(config: pulumi.Config) -> pulumi.Output[str]:
    """The jobs role's password: required, set as a secret, long enough. Never in a message."""
    password = config.get("jobsPassword")
    if not password:
        raise ConfigError(f"stack config jobsPassword is not set: run `{SET_PASSWORD}`")
    if not pulumi.runtime.is_config_secret(config.full_key("jobsPassword")):
        raise ConfigError(
            "stack config jobsPassword is stored in plain text in the stack file: set it "
            f"again as a secret with `{SET_PASSWORD}` (and change the password)"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"stack config jobsPassword is shorter than {MIN_PASSWORD_LENGTH} characters: "
            f"run `{SET_PASSWORD}`"
        )
    return pulumi.Output.secret(password)
