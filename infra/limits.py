"""Plan limits as Pulumi resources: one ``LimitRow`` per row of limits.yaml, keyed by
service x metric x plan, and one ``LimitSet`` that deletes the rows nobody wrote there.

The providers are served by the engine from ``python -m pulumi.dynamic`` and pickled by
reference, so they must stay importable as ``infra.limits``.

Contract:
- The database comes from the stack config ``databaseUrl`` or ``DATABASE_URL``, read in
  ``configure`` (see ``infra.provider.database_url``); never a resource input.
- ``LimitRow.diff`` compares inputs with the previous outputs only (no database): a preview
  lists exactly the rows added, changed and removed, fast. After ``pulumi refresh`` the
  previous outputs are the live row, so a hand edit shows up as a change.
- create inserts, adopting a row that already has the key (same id, updated in place);
  update is one UPDATE of that row by id (``updatedAt`` = now, ``updatedBy`` = who ran it);
  delete deletes it; read returns the live row, or an empty id when it is gone.
- ``LimitSet`` depends on every row, so it runs after them: it deletes every row whose key is
  not in the file (hand-inserted, or left by the old TypeScript initializer). Its diff asks
  the database, so ``pulumi up`` finds such rows without a refresh.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import pulumi
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

from infra.dynamic import DynamicResource
from infra.provider import connect, database_url, user_errors
from jobs.errors import MonitoringError
from jobs.limits import store
from jobs.limits.model import VALUE_COLUMNS, Key, LimitRow, key_label
from jobs.model import METRIC_TYPES, SERVICES

COMPONENT_TYPE = "infra-monitoring:postgres:PlanLimits"
# Bump when the providers' behaviour changes: the engine only calls update when inputs change.
PROVIDER_VERSION = "1"

ROW_IDENTITY = ("schema", "service", "metricType", "plan")
ROW_INPUTS = (*ROW_IDENTITY, *VALUE_COLUMNS, "providerVersion")
SET_INPUTS = ("schema", "keys", "providerVersion")


class LimitRowMissing(MonitoringError):
    """The row this resource manages was deleted outside Pulumi."""


def resource_name(key: Key) -> str:
    """Stable across reordering of the file: ``VERCEL_KV-STORAGE_MB-upstash-free``.

    Services and metrics are UPPER_SNAKE enum labels without '-', so the name is unique.
    """
    return "-".join(key)


def row_inputs(row: LimitRow, schema: str) -> dict[str, Any]:
    return {"schema": schema, **row.columns(), "providerVersion": PROVIDER_VERSION}


def _parse_key(text: str) -> Key:
    service, metric, plan = text.split("/", 2)
    return (service, metric, plan)


@dataclass(frozen=True)
class _Settings:
    dsn: str | None
    actor: str


def _actor() -> str:
    """Who runs ``pulumi up``: the GitHub user in Actions, else the local user."""
    who = os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"
    return f"pulumi:{who}"


class _DatabaseProvider(ResourceProvider):
    def __init__(self) -> None:
        super().__init__()
        # Filled by configure() in the provider process only; None when pickled.
        self._settings: _Settings | None = None

    @user_errors
    def configure(self, req: ConfigureRequest) -> None:
        self._settings = _Settings(dsn=database_url(req.config), actor=_actor())

    @property
    def settings(self) -> _Settings:
        if self._settings is None:
            raise RuntimeError("the engine calls configure() before any other method")
        return self._settings

    def _connect(self) -> psycopg.Connection:
        return connect(self.settings.dsn)


def _row_failures(news: dict[str, Any]) -> list[CheckFailure]:
    failures = []
    for key in ("schema", "plan", "unit"):
        if not isinstance(news.get(key), str) or not news[key].strip():
            failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
    if news.get("service") not in SERVICES:
        failures.append(CheckFailure("service", f"service must be one of {', '.join(SERVICES)}"))
    if news.get("metricType") not in METRIC_TYPES:
        failures.append(
            CheckFailure("metricType", f"metricType must be one of {', '.join(METRIC_TYPES)}")
        )
    numbers = (
        "limitValue",
        "warningThreshold",
        "criticalThreshold",
        "includedAmount",
        "overageUnitPrice",
    )
    for key in numbers:
        value = news.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            failures.append(CheckFailure(key, f"{key} must be a number"))
    if not isinstance(news.get("isHardLimit"), bool):
        failures.append(CheckFailure("isHardLimit", "isHardLimit must be true or false"))
    return failures


class LimitRowProvider(_DatabaseProvider):
    """One row of ``InfrastructureLimit``; the resource id is the row's id."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, _row_failures(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [key for key in ROW_IDENTITY if olds.get(key) != news.get(key)]
        if moved:
            return DiffResult(changes=True, replaces=moved, delete_before_replace=True)
        changed = any(olds.get(key) != news.get(key) for key in ROW_INPUTS)
        return DiffResult(changes=changed, replaces=[], delete_before_replace=True)

    @user_errors
    def create(self, props: dict[str, Any]) -> CreateResult:
        with self._connect() as conn:
            stored, adopted = store.upsert(
                conn, props["schema"], LimitRow.from_columns(props), self.settings.actor
            )
        return CreateResult(stored.id, _row_outputs(props, stored, adopted))

    @user_errors
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        row = LimitRow.from_columns(news)
        with self._connect() as conn:
            stored = store.update(conn, news["schema"], id_, row, self.settings.actor)
        if stored is None:
            raise LimitRowMissing(
                f"limit {key_label(row.key)} (row {id_}) was deleted outside Pulumi: run "
                "`pulumi refresh`, then `pulumi up` creates it again"
            )
        return UpdateResult(_row_outputs(news, stored, bool(olds.get("adopted"))))

    @user_errors
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._connect() as conn:
            stored = store.read(conn, props["schema"], id_)
        if stored is None:
            return ReadResult("", {})  # gone: the engine drops it from the state
        return ReadResult(id_, _row_outputs(props, stored, bool(props.get("adopted"))))

    @user_errors
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._connect() as conn:
            store.delete(conn, props["schema"], id_)  # already gone is fine


def _row_outputs(props: dict[str, Any], stored: store.StoredRow, adopted: bool) -> dict[str, Any]:
    # olds in diff/update are these outputs, so every input is there, as the database has it.
    return {
        "schema": props["schema"],
        "providerVersion": props.get("providerVersion"),
        **stored.row.columns(),
        "createdAt": stored.created_at.isoformat(),
        "updatedAt": stored.updated_at.isoformat(),
        "updatedBy": stored.updated_by,
        "adopted": adopted,
    }


class LimitSetProvider(_DatabaseProvider):
    """The set of keys the file manages; create and update delete every other row."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        keys = news.get("keys")
        if not isinstance(keys, list) or not all(
            isinstance(k, str) and k.count("/") >= 2 for k in keys
        ):
            failures.append(CheckFailure("keys", "keys must be a list of service/metric/plan"))
        if not isinstance(news.get("schema"), str) or not news["schema"]:
            failures.append(CheckFailure("schema", "schema must be a non-empty string"))
        return CheckResult(news, failures)

    @user_errors
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("schema") != news.get("schema"):
            return DiffResult(changes=True, replaces=["schema"], delete_before_replace=True)
        if any(olds.get(key) != news.get(key) for key in SET_INPUTS):
            return DiffResult(changes=True, replaces=[], delete_before_replace=True)
        # Same keys as last time: only rows added to the table since then need work.
        with self._connect() as conn:
            strays = store.unmanaged(conn, news["schema"], map(_parse_key, news["keys"]))
        return DiffResult(changes=bool(strays), replaces=[], delete_before_replace=True)

    def _prune(self, props: dict[str, Any]) -> dict[str, Any]:
        with self._connect() as conn:
            pruned = store.prune(conn, props["schema"], map(_parse_key, props["keys"]))
        return {key: props[key] for key in SET_INPUTS} | {"pruned": [key_label(k) for k in pruned]}

    @user_errors
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['schema']}.InfrastructureLimit", self._prune(props))

    @user_errors
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._prune(news))

    @user_errors
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._connect() as conn:
            strays = store.unmanaged(conn, props["schema"], map(_parse_key, props["keys"]))
        outs = {key: props[key] for key in SET_INPUTS if key in props}
        return ReadResult(id_, outs | {"unmanaged": [key_label(k) for k in strays]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing: each row is deleted by its own resource; the table goes with its SqlObject."""


class LimitRowResource(DynamicResource, module="postgres", name="LimitRow"):
    """One row of ``InfrastructureLimit``."""

    updatedAt: pulumi.Output[str]
    updatedBy: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        row: LimitRow,
        schema: str,
        provider: LimitRowProvider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        outputs = {"createdAt": None, "updatedAt": None, "updatedBy": None, "adopted": None}
        super().__init__(provider, resource_name, row_inputs(row, schema) | outputs, opts)


class LimitSetResource(DynamicResource, module="postgres", name="LimitSet"):
    """Owns the set of keys; deletes the rows of every other key."""

    pruned: pulumi.Output[list[str]]

    def __init__(
        self, resource_name: str, keys: Sequence[Key], schema: str, opts: pulumi.ResourceOptions
    ) -> None:
        props = {
            "schema": schema,
            "keys": sorted(key_label(k) for k in keys),
            "providerVersion": PROVIDER_VERSION,
            "pruned": None,
        }
        super().__init__(LimitSetProvider(), resource_name, props, opts)


class PlanLimits(pulumi.ComponentResource):
    """Every row of the limits file, after the table, then the prune of unmanaged rows."""

    def __init__(
        self,
        name: str,
        rows: Sequence[LimitRow],
        schema: str,
        table: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        provider = LimitRowProvider()  # one instance: pickled once per resource, by reference
        self.rows = {
            row.key: LimitRowResource(
                resource_name(row.key),
                row,
                schema,
                provider,
                pulumi.ResourceOptions(parent=self, depends_on=[table]),
            )
            for row in rows
        }
        self.limit_set = LimitSetResource(
            f"{name}-set",
            list(self.rows),
            schema,
            pulumi.ResourceOptions(parent=self, depends_on=[table, *self.rows.values()]),
        )
        self.register_outputs({"rows": len(self.rows), "pruned": self.limit_set.pruned})
