"""The Pulumi program's limit resources under mocks: what the engine would be asked to do."""

from __future__ import annotations

import base64
import gc
import pickle
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from infra.dynamic import FULL_COLLECTIONS_NEVER
from infra.limits import ROW_INPUTS, resource_name
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.program import RecordingMonitor, run_program

ROW_TYPE = "pulumi-python:dynamic/postgres:LimitRow"
SET_TYPE = "pulumi-python:dynamic/postgres:LimitSet"
COMPONENT = "infra-monitoring:postgres:PlanLimits"
SECRET_PASSWORD = "l1mits-s3cret-pw"
SECRET_DSN = f"postgresql://owner:{SECRET_PASSWORD}@db.internal:5432/monitoring"


class Recording(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        self.inputs[args.name] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)


def program(config: dict[str, str] | None = None) -> tuple[RecordingMonitor, Recording]:
    mocks = Recording()
    monitor, _ = run_program(mocks, config)
    return monitor, mocks


def test_every_row_of_the_file_is_one_resource_named_by_its_key() -> None:
    monitor, mocks = program()
    rows = load(DEFAULT_LIMITS_FILE).rows()
    declared = monitor.registered(ROW_TYPE)
    assert [r.name for r in declared] == [resource_name(row.key) for row in rows]
    assert "VERCEL_KV-STORAGE_MB-upstash-free" in mocks.inputs
    (component,) = monitor.registered(COMPONENT)
    assert {r.parent for r in declared} == {monitor.urns[component.name]}
    for row in rows:
        props = mocks.inputs[resource_name(row.key)]
        assert {k: props[k] for k in ROW_INPUTS if k not in ("schema", "providerVersion")} == (
            row.columns()
        )
        assert props["schema"] == "public"
    # Meters billed from the first unit (limit: none) are not rows.
    assert "VERCEL_POSTGRES-COMPUTE_HOURS-neon-launch" not in mocks.inputs


def test_rows_depend_on_the_table_and_the_prune_on_every_row() -> None:
    monitor, _ = program()
    table = monitor.urns["InfrastructureLimit"]
    rows = monitor.registered(ROW_TYPE)
    for request in rows:
        assert list(request.dependencies) == [table], request.name
    (limit_set,) = monitor.registered(SET_TYPE)
    assert set(limit_set.dependencies) == {table} | {monitor.urns[r.name] for r in rows}


def test_reordering_the_file_changes_no_resource(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_LIMITS_FILE.read_text(encoding="utf-8"))
    document["limits"].reverse()
    reordered = tmp_path / "limits.yaml"
    reordered.write_text(yaml.safe_dump(document), encoding="utf-8")

    _, before = program()
    _, after = program({"limitsFile": str(reordered)})

    def rows(mocks: Recording) -> dict[str, dict[str, Any]]:
        return {
            name: {k: v for k, v in props.items() if k != "__provider"}
            for name, props in mocks.inputs.items()
            if name not in ("limits", "limits-set")
        }

    assert rows(after) == rows(before)
    assert after.inputs["limits-set"]["keys"] == before.inputs["limits-set"]["keys"]


def test_the_database_credential_is_in_no_limit_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", SECRET_DSN)
    mocks = Recording()
    run_program(mocks, {"databaseUrl": SECRET_DSN}, secret_keys=("databaseUrl",))
    names = {resource_name(row.key) for row in load(DEFAULT_LIMITS_FILE).rows()} | {"limits-set"}
    limit_inputs = [p for name, p in mocks.inputs.items() if name in names]
    assert len(limit_inputs) == len(names)
    for props in limit_inputs:
        provider = props.pop("__provider")
        assert set(props) <= {
            *ROW_INPUTS,
            "keys",
            "createdAt",
            "updatedAt",
            "updatedBy",
            "adopted",
            "pruned",
        }
        assert SECRET_PASSWORD not in repr(props)
        pickled = base64.b64decode(provider["value"] if isinstance(provider, dict) else provider)
        assert SECRET_PASSWORD.encode() not in pickled and b"db.internal" not in pickled


def test_the_limits_file_comes_from_stack_config(tmp_path: Path) -> None:
    minimal = Path(__file__).parent / "data" / "limits_minimal.yaml"
    monitor, mocks = program({"limitsFile": str(minimal)})
    assert [r.name for r in monitor.registered(ROW_TYPE)] == [
        "VERCEL_FUNCTIONS-INVOCATIONS-vercel-hobby",
        "VERCEL_FUNCTIONS-INVOCATIONS-vercel-pro",
        "VERCEL_BANDWIDTH-BANDWIDTH_GB-vercel-pro",
    ]
    assert mocks.inputs["limits-set"]["keys"] == [
        "VERCEL_BANDWIDTH/BANDWIDTH_GB/vercel-pro",
        "VERCEL_FUNCTIONS/INVOCATIONS/vercel-hobby",
        "VERCEL_FUNCTIONS/INVOCATIONS/vercel-pro",
    ]
    with pytest.raises(pulumi.RunError) as failed:
        program({"limitsFile": str(tmp_path / "missing.yaml")})
    assert str(failed.value) == (
        f"{tmp_path}/missing.yaml has 1 problem: {tmp_path}/missing.yaml: (document): no such file"
    )


def test_declaring_resources_leaves_the_pickler_as_it_was() -> None:
    """The SDK wraps pickle's dict saving once more for every dynamic resource it declares
    and never unwraps it: past ~950 resources the program died of RecursionError. Ours put
    the pickler back, and the program keeps full GC passes off while it declares rows."""
    before = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)
    thresholds: list[tuple[int, int, int]] = []

    class Watching(Recording):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
            thresholds.append(gc.get_threshold())
            return super().new_resource(args)

    run_program(Watching())
    assert (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict) == before
    assert {t[2] for t in thresholds} == {FULL_COLLECTIONS_NEVER}
    assert gc.get_threshold()[2] != FULL_COLLECTIONS_NEVER  # pytest's own process is untouched
