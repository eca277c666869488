"""Evaluate the real ``__main__.py`` under ``pulumi.runtime.set_mocks``.

The mock monitor is extended only to record each RegisterResource request (type, name,
parent, dependencies) and each RegisterResourceOutputs, which is what the engine would
receive.
"""

from __future__ import annotations

import asyncio
import gc
import os
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.rpc
import pulumi.runtime.settings
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

PROJECT = "infra-monitoring"
ROOT = Path(__file__).resolve().parents[2]
# What every stack needs (infra/config.py), given to runs that set none of their own.
TEST_JOBS_PASSWORD = "test-jobs-password-0123456789"
TEST_OWNER_DSN = "postgresql://owner:test-owner-password@db.test:5432/monitoring"


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []
        self.urns: dict[str, str] = {}
        self.outputs: list[Any] = []  # RegisterResourceOutputs: components' and the stack's

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        self.urns[request.name] = self.make_urn(request.parent, request.type, request.name)
        return super().RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs.append(request)
        return super().RegisterResourceOutputs(request)

    def registered(self, type_prefix: str = "") -> list[Any]:
        return [r for r in self.requests if r.type.startswith(type_prefix)]


def run_program(
    mocks: pulumi.runtime.Mocks,
    config: Mapping[str, str] | None = None,
    secret_keys: tuple[str, ...] = (),
) -> tuple[RecordingMonitor, dict[str, Any]]:
    """Run ``__main__.py`` to completion; returns the monitor and the program's globals.

    ``jobsPassword`` and the owner's ``databaseUrl`` (unless ``DATABASE_URL`` is set) get
    test values, as secrets, when ``config`` has none."""
    # The SDK builds the stack on the current event loop; asyncio.run() elsewhere in the test
    # (the served-provider harness) leaves none set.
    asyncio.set_event_loop(asyncio.new_event_loop())
    monitor = RecordingMonitor(mocks)
    values = dict(config or {})
    secrets = set(secret_keys)
    defaults = {"jobsPassword": TEST_JOBS_PASSWORD}
    if not os.environ.get("DATABASE_URL"):
        defaults["databaseUrl"] = TEST_OWNER_DSN
    for key, value in defaults.items():
        if key not in values:
            values[key] = value
            secrets.add(key)
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{k}": v for k, v in values.items()},
        [f"{PROJECT}:{k}" for k in sorted(secrets)],
    )
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False, monitor=monitor)
    namespace: dict[str, Any] = {}

    @pulumi.runtime.test
    def evaluate() -> Any:
        namespace.update(runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
        return namespace["schema"].object_ids

    thresholds = gc.get_threshold()
    try:
        evaluate()
    finally:
        gc.set_threshold(*thresholds)  # the program tunes GC for its own process, not pytest's
    return monitor, namespace


def stack_outputs() -> dict[str, Any]:
    """The last run's ``pulumi.export``s, resolved and serialized as the engine gets them
    (under mocks the stack registers no outputs of its own)."""
    root = pulumi.runtime.settings.get_root_resource()
    outputs = getattr(root, "outputs", {})
    loop = asyncio.get_event_loop()
    struct = loop.run_until_complete(pulumi.runtime.rpc.serialize_properties(outputs, {}))
    return dict(json_format.MessageToDict(struct))
