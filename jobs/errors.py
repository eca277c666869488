"""The one place where the project's errors are defined.

Every error a user can cause or meet carries a one-line message (its ``str``)
and the exit code the CLI returns for it. Library errors (psycopg, httpx, yaml)
are wrapped into these at the boundary where they occur, never passed through.
"""

from __future__ import annotations

import signal


class MonitoringError(Exception):
    """Something went wrong."""

    exit_code = 1

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    def __str__(self) -> str:
        # One line, always: the CLI prints exactly this.
        return " ".join(str(self.args[0]).split()) if self.args else ""


class ConfigError(MonitoringError):
    """The configuration (environment, arguments, files) is not valid."""

    exit_code = 2


class DatabaseError(MonitoringError):
    """The database reported an error."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached."""


class SchemaError(MonitoringError):
    """The database schema does not match its definition in sql/."""


class SchemaConflict(SchemaError):
    """An existing object has the same name as one of ours but a different shape."""


class DestructiveChangeRefused(SchemaError):
    """A change would lose data and allowDataLoss is not set."""


class SourceError(MonitoringError):
    """A collection source failed; its data for this run was not written."""


class ApiError(SourceError):
    """A provider API refused or failed the request."""

    def __init__(
        self, message: str | None = None, *, status: int | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the API answered one
        self.code = code  # the provider's error code (Vercel's error.code), when it gave one


class PayloadError(SourceError):
    """A provider API or a FOCUS file sent data we cannot read."""


class CollectionBusy(MonitoringError):
    """Another collection run holds the lock."""


class PrismaMappingError(SchemaError):
    """A database object has something the Prisma schema generator cannot express."""


class PrismaSchemaDrift(SchemaError):
    """The Prisma schema file does not match the schema sql/ builds."""


class InvalidFile(ConfigError):
    """A configuration file is not valid."""

    def __init__(self, file: str, problems: list[str]) -> None:
        # ``problems`` are one line each ("FILE:LINE: key: message"); ``limits check`` prints
        # them one per line, everything else shows the one-line summary.
        self.file = file
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{file} has {count} {noun}: " + "; ".join(self.problems))


class LimitsError(InvalidFile):
    """The limits file is not valid."""


class NotificationsError(InvalidFile):
    """The notifications file is not valid."""


class RecommendationNotFound(MonitoringError):
    """No recommendation has this id."""


class AmbiguousId(MonitoringError):
    """A short id matches more than one recommendation."""


class Interrupted(KeyboardInterrupt):
    """The job was asked to stop (SIGTERM or SIGINT) and stops cleanly.

    A KeyboardInterrupt, not a MonitoringError: nothing catches it as an ordinary failure,
    and psycopg cancels the statement in progress for it, so the transaction rolls back.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # what a shell reports for a process ended by the signal
