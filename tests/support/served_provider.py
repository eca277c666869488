"""Serve a dynamic provider exactly as the Pulumi engine does, and call it over gRPC.

The engine runs ``python -u -m pulumi.dynamic`` in the project directory with
``PULUMI_PROJECT`` and ``PULUMI_CONFIG`` set, reads the port from the first line of
stdout and calls ``pulumirpc.ResourceProvider``. Each resource's properties carry its
provider in ``__provider``, serialized with the SDK's own ``serialize_provider``. This
harness does the same, and mirrors the engine's property handling (``None`` dropped).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

PROJECT = "infra-monitoring"
ROOT = Path(__file__).resolve().parents[2]
PROVIDER_KEY = "__provider"


class ProviderCallFailed(Exception):
    """The provider answered with an error; ``details`` is what the engine would show."""

    def __init__(self, method: str, details: str) -> None:
        super().__init__(f"{method}: {details}")
        self.method = method
        self.details = details


@dataclass(frozen=True)
class DiffAnswer:
    changes: bool
    replaces: tuple[str, ...]
    delete_before_replace: bool


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _serialize(props: Mapping[str, Any]) -> Any:
    # A private loop: asyncio.run would unset the thread's current loop, which the pulumi
    # mock runtime needs in later tests.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(_without_none(dict(props)), {}))
    finally:
        loop.close()


def _deserialize(struct: Any) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct))


class ServedProvider:
    """One provider process; ``provider`` is the instance whose pickle rides in ``__provider``."""

    def __init__(
        self,
        provider: object,
        env: Mapping[str, str] | None = None,
        resource_type: str = "pulumi-python:dynamic/postgres:SqlObject",
    ) -> None:
        self.serialized = serialize_provider(provider)
        self.resource_type = resource_type
        child_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        child_env.update({"PULUMI_PROJECT": PROJECT, "PULUMI_CONFIG": "{}"})
        child_env.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        first_line = self.process.stdout.readline().decode().strip()
        if not first_line.isdigit():
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise RuntimeError(f"provider did not start: {first_line!r} {err.decode()[-2000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{first_line}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        """Stop the process; returns what it wrote to stderr."""
        self.channel.close()
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        return err.decode(errors="replace")

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as exc:
            raise ProviderCallFailed(method, exc.details() or str(exc)) from None

    def with_provider(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.serialized}

    def configure(self, config: Mapping[str, str]) -> None:
        args = {f"{PROJECT}:{key}": value for key, value in config.items()}
        self._call(
            "Configure",
            proto.ConfigureRequest(args=_serialize(args), acceptSecrets=True, variables={}),
        )

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[dict, list]:
        response = self._call(
            "Check",
            proto.CheckRequest(
                urn=self.urn(news), olds=_serialize(olds), news=_serialize(self.with_provider(news))
            ),
        )
        failures = [(f.property, f.reason) for f in response.failures]
        return _deserialize(response.inputs), failures

    def diff(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffAnswer:
        response = self._call(
            "Diff",
            proto.DiffRequest(
                id=id_,
                urn=self.urn(news),
                olds=_serialize(olds),
                news=_serialize(self.with_provider(news)),
            ),
        )
        return DiffAnswer(
            changes=response.changes == proto.DiffResponse.DIFF_SOME,
            replaces=tuple(response.replaces),
            delete_before_replace=response.deleteBeforeReplace,
        )

    def create(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call(
            "Create",
            proto.CreateRequest(
                urn=self.urn(props), properties=_serialize(self.with_provider(props))
            ),
        )
        return response.id, _deserialize(response.properties)

    def read(self, id_: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call(
            "Read", proto.ReadRequest(id=id_, urn=self.urn(props), properties=_serialize(props))
        )
        return response.id, _deserialize(response.properties)

    def update(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        response = self._call(
            "Update",
            proto.UpdateRequest(
                id=id_,
                urn=self.urn(news),
                olds=_serialize(olds),
                news=_serialize(self.with_provider(news)),
            ),
        )
        return _deserialize(response.properties)

    def delete(self, id_: str, props: Mapping[str, Any]) -> None:
        self._call(
            "Delete", proto.DeleteRequest(id=id_, urn=self.urn(props), properties=_serialize(props))
        )

    def urn(self, props: Mapping[str, Any]) -> str:
        name = props.get("objectName") or json.dumps(sorted(props))[:40]
        return f"urn:pulumi:test::{PROJECT}::{self.resource_type}::{name}"
