"""The stack configuration the program reads, validated before any resource exists.

``databaseUrl`` and ``allowDataLoss`` are read by the dynamic provider itself (in
``configure``), never by the program, so the database credential cannot become a
resource input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pulumi

from jobs.errors import ConfigError
from jobs.paths import PROJECT_ROOT

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass(frozen=True)
class StackConfig:
    schema: str
    limits_file: str  # as configured, relative to the project directory unless absolute

    @property
    def limits_path(self) -> Path:
        return PROJECT_ROOT / self.limits_file  # an absolute limits_file wins the join

    @classmethod
    def load(cls, config: pulumi.Config) -> StackConfig:
        limits_file = (config.get("limitsFile") or "limits.yaml").strip()
        schema = config.get("schema") or "public"
        if not _IDENTIFIER.match(schema):
            raise ConfigError(
                f"stack config schema {schema!r} is not a plain PostgreSQL identifier "
                "(letters, digits, _ and $, at most 63 characters, not starting with a digit)"
            )
        return cls(schema=schema, limits_file=limits_file)
