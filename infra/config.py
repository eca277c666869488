"""The stack configuration the program reads, validated before any resource exists.

``databaseUrl`` and ``allowDataLoss`` are read by the dynamic provider itself (in
``configure``), never by the program, so the database credential cannot become a
resource input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from jobs.errors import ConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass(frozen=True)
class StackConfig:
    schema: str

    @classmethod
    def load(cls, config: pulumi.Config) -> StackConfig:
        schema = config.get("schema") or "public"
        if not _IDENTIFIER.match(schema):
            raise ConfigError(
                f"stack config schema {schema!r} is not a plain PostgreSQL identifier "
                "(letters, digits, _ and $, at most 63 characters, not starting with a digit)"
            )
        return cls(schema=schema)
