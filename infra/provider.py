"""Pulumi dynamic provider for the SQL objects of the monitoring schema (enums and tables).

pulumi-postgresql has no table or type resource, so these are ours. The engine serves
this class from ``python -m pulumi.dynamic`` in the project directory; it is pickled by
reference, so it must stay importable as ``infra.provider``.

Contract:
- The database comes from the stack config ``databaseUrl`` (secret) or ``DATABASE_URL``,
  read in ``configure``; never a resource input, so never in state or outputs.
- Create adopts an existing object of the same shape and refuses one that differs.
- Additive changes are applied in place; a change that would lose rows is refused at
  preview (``diff``) unless the stack config ``allowDataLoss`` is true.
- Every operation is one transaction (see ``jobs.schema.migrate``).
- Delete moves a table that holds rows into an archive schema unless data loss is allowed.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pulumi.runtime
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from jobs import db
from jobs.errors import ConfigError, DestructiveChangeRefused, MonitoringError
from jobs.redact import dsn_secrets, scrub, secrets_from_env
from jobs.schema import migrate
from jobs.schema.migrate import ObjectSpec
from jobs.schema.plan import ObjectKind

# Bump when the provider's behaviour changes: the engine only calls update when inputs change.
PROVIDER_VERSION = "1"

# The inputs that say which object this is: a change to any of them is a different object.
IDENTITY_KEYS = ("objectName", "kind", "schema")
INPUT_KEYS = (*IDENTITY_KEYS, "deploySql", "revertSql", "providerVersion")

F = TypeVar("F", bound=Callable[..., Any])


class ProviderError(Exception):
    """A failure the user can act on; its message is all the engine needs to show."""


def _secrets(args: tuple[Any, ...]) -> list[str]:
    """What must not reach the engine: secret environment values and the configured DSN's
    password (from the provider's settings, or the ConfigureRequest being handled)."""
    found = secrets_from_env(os.environ)
    for arg in args:
        dsn = getattr(getattr(arg, "_settings", None), "dsn", None)
        config = getattr(arg, "config", None)
        if config is not None and hasattr(config, "get"):
            dsn = config.get("databaseUrl") or dsn
        if dsn:
            found += dsn_secrets(str(dsn))
    return found


def user_errors(method: F) -> F:
    """Re-raise our errors without the library frames, so the engine shows one clear line;
    anything unexpected too (its traceback goes to stderr, which the engine logs). Secrets
    are scrubbed from both: the engine prints and stores what providers say."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MonitoringError as exc:
            raise ProviderError(scrub(str(exc), _secrets(args))) from None
        except Exception as exc:
            secrets = _secrets(args)
            print(scrub("".join(traceback.format_exception(exc)), secrets), file=sys.stderr)
            message = " ".join(scrub(str(exc), secrets).split())
            raise ProviderError(f"unexpected {type(exc).__name__}: {message}") from None

    return wrapper  # type: ignore[return-value]


def parse_bool(value: Any, key: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ConfigError(f"stack config {key} must be true or false, not {value!r}")


NO_DATABASE = (
    "no database configured: set DATABASE_URL or "
    "`pulumi config set --secret databaseUrl postgres://...`"
)


def _origin(config: Any) -> str:
    return "stack config databaseUrl" if config.get("databaseUrl") else "DATABASE_URL"


def database_url(config: Any) -> str | None:
    """The stack config ``databaseUrl``, else ``DATABASE_URL``: read in ``configure`` only, so
    the credential is never a resource input (inputs land in the state)."""
    dsn = (config.get("databaseUrl") or os.environ.get("DATABASE_URL") or "").strip()
    return db.validate_dsn(dsn, _origin(config)) if dsn else None


def owner_dsn(config: Any) -> tuple[str, str]:
    """The same owner connection for the program, which configures pulumi-postgresql with it
    (infra.config.OwnerConnection); returns the DSN and where it came from. A ``databaseUrl``
    with a password must be a secret: in plain text it would sit in the stack file."""
    dsn = database_url(config)
    if not dsn:
        raise ConfigError(NO_DATABASE)
    if (
        config.get("databaseUrl")
        and dsn_secrets(dsn)
        and not pulumi.runtime.is_config_secret(config.full_key("databaseUrl"))
    ):
        raise ConfigError(
            "stack config databaseUrl holds a password in plain text in the stack file: set "
            "it again with `pulumi config set --secret databaseUrl 'postgresql://...'` (and "
            "change that password)"
        )
    return dsn, _origin(config)


def connect(dsn: str | None) -> psycopg.Connection:
    if not dsn:
        raise ConfigError(NO_DATABASE)
    return db.connect(dsn)


@dataclass(frozen=True)
class ProviderSettings:
    dsn: str | None
    allow_data_loss: bool
    archive_schema: str


def spec_from_props(props: dict[str, Any]) -> ObjectSpec:
    return ObjectSpec(
        name=props["objectName"],
        kind=ObjectKind(props["kind"]),
        schema=props["schema"],
        deploy_sql=props["deploySql"],
        revert_sql=props["revertSql"],
    )


class SqlObjectProvider(ResourceProvider):
    def __init__(self) -> None:
        super().__init__()
        # Filled by configure() in the provider process only; None when pickled.
        self._settings: ProviderSettings | None = None

    @user_errors
    def configure(self, req: ConfigureRequest) -> None:
        self._settings = ProviderSettings(
            dsn=database_url(req.config),
            allow_data_loss=parse_bool(req.config.get("allowDataLoss"), "allowDataLoss"),
            # One archive schema per provider process, i.e. per `pulumi destroy`.
            archive_schema=migrate.archive_schema_name(),
        )

    @property
    def settings(self) -> ProviderSettings:
        if self._settings is None:
            raise RuntimeError("the engine calls configure() before any other method")
        return self._settings

    def _connect(self) -> psycopg.Connection:
        return connect(self.settings.dsn)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        for key in INPUT_KEYS:
            value = news.get(key)
            if not isinstance(value, str) or not value.strip():
                failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
        if isinstance(news.get("kind"), str) and news["kind"] not in {k.value for k in ObjectKind}:
            failures.append(
                CheckFailure(
                    "kind", f"kind must be one of {', '.join(k.value for k in ObjectKind)}"
                )
            )
        return CheckResult(news, failures)

    @user_errors
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [key for key in IDENTITY_KEYS if olds.get(key) != news.get(key)]
        if moved:
            return DiffResult(changes=True, replaces=moved, delete_before_replace=True)
        spec = spec_from_props(news)
        with self._connect() as conn:
            planned = migrate.plan(conn, spec, self.settings.allow_data_loss)
        if planned.blocker:
            raise DestructiveChangeRefused(planned.blocker)
        if not planned.exists or planned.rebuild:
            # Gone from the database, or only a drop and create gets it to its definition.
            return DiffResult(changes=True, replaces=["deploySql"], delete_before_replace=True)
        inputs_changed = any(olds.get(key) != news.get(key) for key in INPUT_KEYS)
        return DiffResult(
            changes=bool(planned.changes) or inputs_changed,
            replaces=[],
            delete_before_replace=True,
        )

    @user_errors
    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = spec_from_props(props)
        with self._connect() as conn:
            applied = migrate.create(conn, spec)
        return CreateResult(
            f"{spec.schema}.{spec.name}", _outputs(props, applied.shape, applied.adopted)
        )

    @user_errors
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        spec = spec_from_props(news)
        with self._connect() as conn:
            applied = migrate.apply(conn, spec, self.settings.allow_data_loss)
        return UpdateResult(_outputs(news, applied.shape, bool(olds.get("adopted"))))

    @user_errors
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        spec = spec_from_props(props)
        with self._connect() as conn:
            shape = migrate.read(conn, spec)
        if shape is None:
            return ReadResult("", {})  # gone: the engine drops it from the state
        return ReadResult(id_, _outputs(props, shape, bool(props.get("adopted"))))

    @user_errors
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        spec = spec_from_props(props)
        with self._connect() as conn:
            outcome = migrate.delete(
                conn,
                spec,
                allow_data_loss=self.settings.allow_data_loss,
                archive_schema=self.settings.archive_schema,
            )
        # The engine records provider stderr in its logs (pulumi destroy -v=3 shows it).
        print(outcome, file=sys.stderr)


def _outputs(props: dict[str, Any], shape: Any, adopted: bool) -> dict[str, Any]:
    # olds in diff/update are the previous outputs, so every input is echoed back.
    outs = {key: props[key] for key in INPUT_KEYS if key in props}
    outs["shape"] = shape.to_json()
    outs["adopted"] = adopted
    return outs
