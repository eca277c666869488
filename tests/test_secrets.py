"""Secrets never leak: not from any command's output, logs or step summary, not into the
tables, not into Pulumi inputs, outputs or pickled providers, not from provider errors."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pulumi
import pytest
from google.protobuf import json_format
from psycopg import conninfo
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from infra.limits import LimitRowProvider
from infra.provider import ProviderError, SqlObjectProvider, user_errors
from jobs import logs
from jobs.cli import main
from jobs.limits.loader import load
from jobs.paths import DEFAULT_LIMITS_FILE
from jobs.schema.migrate import ObjectSpec
from jobs.schema.plan import SCHEMA_PLAN
from tests.support.fake_apis import (
    NEON_KEY,
    UPSTASH_EMAIL,
    UPSTASH_KEY,
    VERCEL_TOKEN,
    FakeApis,
    Reply,
    upstash_stats,
)
from tests.support.grants_sql import SECRET_SIG, unwrap
from tests.support.program import run_program, stack_outputs
from tests.support.secrets_scan import leaks
from tests.support.served_provider import ProviderCallFailed, ServedProvider
from tests.support.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
DB_PASSWORD = "db-Pa55word-7c1e"
JOBS_DB_PASSWORD = "jobs-Pa55word-91fa"
PASSPHRASE = "pulumi-passphrase-4b2d"
PULUMI_TOKEN = "pul-0123456789abcdef"
JOBS_PASSWORD = "stack-jobs-password-5e8a"
REFUSED = f"postgresql://owner:{DB_PASSWORD}@127.0.0.1:1/monitoring"  # nothing listens on 1
SECRETS = [
    DB_PASSWORD,
    JOBS_DB_PASSWORD,
    PASSPHRASE,
    PULUMI_TOKEN,
    JOBS_PASSWORD,
    VERCEL_TOKEN,
    NEON_KEY,
    UPSTASH_KEY,
    base64.b64encode(f"{UPSTASH_EMAIL}:{UPSTASH_KEY}".encode()).decode(),  # Upstash's Basic
]


@pytest.fixture(autouse=True)
def quiet_logging_afterwards() -> Iterator[None]:
    """``-v`` runs leave DEBUG logging on a stream pytest closes; put the quiet default back."""
    yield
    logs.setup(verbose=False)


def found_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@dataclass
class Transcript:
    """Everything the commands printed, labelled by command."""

    runs: list[tuple[str, int, str, str]] = field(default_factory=list)

    def leaks(self) -> list[tuple[str, list[str]]]:
        return [
            (label, found_in(out + err)) for label, _, out, err in self.runs if found_in(out + err)
        ]

    def of(self, label: str) -> tuple[int, str, str]:
        for run_label, code, out, err in self.runs:
            if run_label == label:
                return code, out, err
        raise KeyError(label)


@pytest.fixture
def secret_env(
    monkeypatch: pytest.MonkeyPatch, migrated_db: str, tmp_path: Path
) -> Iterator[tuple[FakeApis, str]]:
    """Every secret the workflows hold, in the environment; the sources against fake APIs."""
    for name in [k for k in os.environ if k.startswith(("VERCEL_", "NEON_", "UPSTASH_"))]:
        monkeypatch.delenv(name)
    work = Workload.for_today()
    with FakeApis() as apis:
        work.populate(apis)
        apis.upstash_stats = {"kv-1": upstash_stats(work.days[-3:], [10, 20, 30], 1_000_000)}
        env = (
            work.env(apis)
            | apis.env(vercel=False, upstash="kv-1")
            | {
                "DATABASE_URL": conninfo.make_conninfo(migrated_db, password=DB_PASSWORD),
                "JOBS_DATABASE_URL": f"postgresql://jobs:{JOBS_DB_PASSWORD}@db.internal/monitoring",
                "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
                "PULUMI_ACCESS_TOKEN": PULUMI_TOKEN,
                "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
            }
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield apis, migrated_db


def run_all(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    apis: FakeApis,
    db: str,
    tmp_path: Path,
) -> Transcript:
    transcript = Transcript()

    def run(label: str, *argv: str, **env: str) -> None:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            try:
                code = main(["-v", *argv])
            except SystemExit as exited:  # --help and usage errors
                code = int(exited.code or 0)
        out, err = capsys.readouterr()
        transcript.runs.append((label, code, out, err))

    work = Workload.for_today()
    bad_limits = tmp_path / "bad-limits.yaml"
    bad_limits.write_text("version: [\n", encoding="utf-8")
    bad_focus = tmp_path / "bad.jsonl"
    bad_focus.write_text('{"ServiceName": 5}\nnot json\n', encoding="utf-8")
    prisma_out = tmp_path / "schema.prisma"
    drifted = tmp_path / "drifted.prisma"
    drifted.write_text("model Nothing {\n  id String @id\n}\n", encoding="utf-8")

    run("help", "--help")
    run("collect help", "collect", "--help")
    run("schema plan", "schema", "plan")
    run("schema up", "schema", "up")
    run("schema show", "schema", "show")
    run("schema up refused", "schema", "up", DATABASE_URL=REFUSED)
    run("schema show bad url", "schema", "show", DATABASE_URL=REFUSED.replace(":1/", ":one/"))
    run("limits check", "limits", "check")
    run("limits check bad", "limits", "check", str(bad_limits))
    run("limits diff", "limits", "diff")
    run("limits diff refused", "limits", "diff", DATABASE_URL=REFUSED)
    run("collect", "collect")
    # The billing API refuses the token and echoes it back; deployments answer garbage.
    apis.script(
        "/v1/billing",
        Reply(401, {"error": {"code": "forbidden", "message": f"token {VERCEL_TOKEN} is invalid"}}),
    )
    apis.script("/v6/deployments", Reply(200, b"<html>garbage</html>"))
    run("collect 401", "collect")
    run("collect refused", "collect", DATABASE_URL=REFUSED)
    run("collect no source", "collect", VERCEL_TOKEN="", NEON_API_KEY="", UPSTASH_API_KEY="")
    run("collect file", "collect", "--focus-file", str(work.focus_file(tmp_path)))
    run("collect bad file", "collect", "--focus-file", str(bad_focus))
    run("recommend", *work.recommend_args())
    run("recommend refused", "recommend", DATABASE_URL=REFUSED)
    run("backtest", "backtest", "--now", work.now)
    run("backtest refused", "backtest", DATABASE_URL=REFUSED)
    run("list", "recommendations", "list", "--all")
    with psycopg.connect(db) as conn:
        (first,) = conn.execute('SELECT id FROM "UpgradeRecommendation" LIMIT 1').fetchone()  # type: ignore[misc]
    run("show", "recommendations", "show", first)
    run("show unknown", "recommendations", "show", "no-such-id")
    run("review", "recommendations", "review", first, "--by", "alice")
    run("approve", "recommendations", "approve", first, "--by", "bob")
    run("approve again", "recommendations", "approve", first, "--by", "bob")
    run("dismiss refused", "recommendations", "dismiss", first, "--by", "eve", DATABASE_URL=REFUSED)
    run("implement", "recommendations", "implement", first, "--by", "carol")
    run("status", "status", "--now", work.now)
    run("status json", "status", "--format", "json")
    run("status refused", "status", DATABASE_URL=REFUSED)
    run("report", "report", "--out", str(tmp_path / "report.html"), "--now", work.now)
    run("report refused", "report", "--out", str(tmp_path / "nothing.html"), DATABASE_URL=REFUSED)
    run("prisma", "prisma-schema")
    run("prisma output", "prisma-schema", "--output", str(prisma_out))
    run("prisma drift", "prisma-schema", "--check", str(drifted))
    run("prisma refused", "prisma-schema", DATABASE_URL=REFUSED)
    run("schema down", "schema", "down", "--allow-data-loss")
    return transcript


def test_no_command_prints_or_stores_a_secret(
    secret_env: tuple[FakeApis, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    apis, db = secret_env
    # The tables are read before `schema down` drops them: run all but that first.
    transcript = run_all(capsys, monkeypatch, apis, db, tmp_path)
    assert transcript.leaks() == []
    # Every path ran: successes and failures, with logs (-v).
    codes = {label: code for label, code, _, _ in transcript.runs}
    assert {k: codes[k] for k in ("collect", "recommend", "approve", "prisma", "schema down")} == {
        "collect": 0,
        "recommend": 0,
        "approve": 0,
        "prisma": 0,
        "schema down": 0,
    }
    assert all(codes[k] != 0 for k in codes if k.endswith(("refused", "bad", "401", "unknown")))
    assert "DEBUG" in transcript.of("collect")[2] or "INFO" in transcript.of("collect")[2]
    # The echoed token reached the output masked, which proves the scrubbing ran.
    _, out, _ = transcript.of("collect 401")
    assert "error vercel-billing: GET /v1/billing/charges: HTTP 401: token *** is invalid" in out
    summary = Path(os.environ["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    # (the mask, escaped as Markdown: it renders as ***)
    assert "token \\*\\*\\* is invalid" in summary and found_in(summary) == []
    for written in ("schema.prisma", "report.html"):
        assert found_in((tmp_path / written).read_text(encoding="utf-8")) == [], written
    assert codes["report"] == 0 and codes["status"] in (0, 1)


def test_failures_stored_in_the_tables_hold_no_secret(
    secret_env: tuple[FakeApis, str], capsys: pytest.CaptureFixture[str]
) -> None:
    apis, db = secret_env
    apis.script(
        "/v1/billing",
        Reply(401, {"error": {"message": f"token {VERCEL_TOKEN} is invalid"}}),
    )
    apis.script("/v2/redis/stats", Reply(403, {"error": f"{UPSTASH_EMAIL}:{UPSTASH_KEY} denied"}))
    assert main(["collect"]) == 1
    capsys.readouterr()
    with psycopg.connect(db) as conn:
        stored = str(conn.execute('SELECT * FROM "CollectionWatermark"').fetchall())
        stored += str(conn.execute('SELECT * FROM "CollectionRun"').fetchall())
    assert "HTTP 401: token *** is invalid" in stored
    assert f"HTTP 403: {UPSTASH_EMAIL}:*** denied" in stored
    assert found_in(stored) == []


def test_a_command_in_its_own_process_leaks_nothing_either(
    secret_env: tuple[FakeApis, str], tmp_path: Path
) -> None:
    """The real process: interpreter warnings and shutdown messages included."""
    apis, _ = secret_env
    apis.script("/v1/billing", Reply(401, {"error": {"message": f"bad token {VERCEL_TOKEN}"}}))
    for argv, env in (
        (["-v", "collect"], {}),
        (["-v", "recommend"], {"DATABASE_URL": REFUSED}),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "jobs", *argv],
            cwd=ROOT,
            env=os.environ | env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 1, done.stderr
        assert found_in(done.stdout + done.stderr) == [], argv


def test_an_unexpected_error_is_one_scrubbed_line(
    secret_env: tuple[FakeApis, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"boom at {REFUSED}\nwith {VERCEL_TOKEN} and {PASSPHRASE}")

    monkeypatch.setattr("jobs.recommend.engine.run", broken)
    assert main(["recommend"]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "error: unexpected RuntimeError: boom at postgresql://owner:***@127.0.0.1:1/monitoring "
        "with *** and *** (a bug: please report it; -v shows where)\n"
    )
    assert main(["-v", "recommend"]) == 1
    _, err = capsys.readouterr()
    assert "Traceback (most recent call last)" in err and found_in(err) == []


# -- Pulumi: inputs, outputs, pickled providers, provider errors ----------------------


class Echo(pulumi.runtime.Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def test_no_secret_in_pulumi_inputs_outputs_or_providers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner_dsn = f"postgresql://owner:{DB_PASSWORD}@db.internal:5432/monitoring"
    for name, value in {
        "DATABASE_URL": owner_dsn,
        "VERCEL_TOKEN": VERCEL_TOKEN,
        "NEON_API_KEY": NEON_KEY,
        "UPSTASH_API_KEY": UPSTASH_KEY,
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
    }.items():
        monkeypatch.setenv(name, value)
    monitor, _ = run_program(
        Echo(),
        {"databaseUrl": owner_dsn, "jobsPassword": JOBS_PASSWORD},
        secret_keys=("databaseUrl", "jobsPassword"),
    )
    secrets = [DB_PASSWORD, JOBS_PASSWORD, VERCEL_TOKEN, NEON_KEY, UPSTASH_KEY, PASSPHRASE]
    wrapped: list[Any] = []
    for request in monitor.requests:
        inputs = json_format.MessageToDict(request.object)
        provider = inputs.pop("__provider", None)
        assert leaks(inputs, secrets) == [], (request.type, request.name)
        if provider is not None:  # a dynamic provider, pickled (dill) into every resource
            pickled = base64.b64decode(unwrap(provider))
            assert [s for s in secrets if s.encode() in pickled] == [], request.name
            assert b"db.internal" not in pickled
        wrapped += [v for v in inputs.values() if isinstance(v, dict) and v.get(SECRET_SIG)]
    # The two passwords pulumi-postgresql needs are there, each as a secret.
    assert sorted(unwrap(w) for w in wrapped) == sorted([DB_PASSWORD, JOBS_PASSWORD])
    for registered in monitor.outputs:
        outputs = json_format.MessageToDict(registered.outputs)
        assert leaks(outputs, secrets) == [], registered.urn
    exported = stack_outputs()
    assert set(exported) == {"schema", "objects", "limitRows", "jobsRole"}
    assert leaks(exported, secrets) == []


@pytest.mark.parametrize("kind", ["table", "limit"])
def test_provider_errors_through_the_engine_hold_no_secret(kind: str) -> None:
    """Served as the engine serves them, connected to nothing: every error the engine would
    print (and keep in its logs) names the server but never the password."""
    spec = ObjectSpec.from_plan(SCHEMA_PLAN[0], "public")
    if kind == "table":
        served = ServedProvider(SqlObjectProvider(), env={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})
        props: dict[str, Any] = {
            "objectName": spec.name,
            "kind": spec.kind.value,
            "schema": "public",
            "deploySql": spec.deploy_sql,
            "revertSql": spec.revert_sql,
            "providerVersion": "1",
        }
    else:
        served = ServedProvider(
            LimitRowProvider(),
            env={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
            resource_type="pulumi-python:dynamic/postgres:LimitRow",
        )
        row = load(DEFAULT_LIMITS_FILE).rows()[0]
        props = {"schema": "public", **row.columns(), "providerVersion": "1"}
    failures: list[str] = []
    try:
        served.configure({"databaseUrl": REFUSED})
        for call in (
            lambda: served.create(props),
            lambda: served.update("x", props, props),
            # Outputs (what read and delete get) carry the provider, as create returns it.
            lambda: served.read("x", served.with_provider(props)),
            lambda: served.delete("x", served.with_provider(props)),
        ):
            with pytest.raises(ProviderCallFailed) as failed:
                call()
            failures.append(failed.value.details)
    finally:
        stderr = served.close()
    # The engine shows the provider's traceback; its last line is our one-line message.
    assert [f.strip().splitlines()[-1] for f in failures] == [
        "infra.provider.ProviderError: cannot connect to PostgreSQL at "
        "owner@127.0.0.1:1/monitoring: Connection refused"
    ] * 4
    assert [f for f in failures if found_in(f)] == []
    assert found_in(stderr) == []


def test_a_bad_stack_database_url_is_reported_without_its_password() -> None:
    spec = ObjectSpec.from_plan(SCHEMA_PLAN[0], "public")
    served = ServedProvider(SqlObjectProvider())
    try:
        # The engine's Configure is applied when a resource first brings the provider.
        served.configure({"databaseUrl": REFUSED.replace(":1/", ":one/")})
        with pytest.raises(ProviderCallFailed) as failed:
            served.create({"objectName": spec.name, "kind": "enum", "schema": "public"})
    finally:
        stderr = served.close()
    assert failed.value.details.strip().splitlines()[-1] == (
        "infra.provider.ProviderError: stack config databaseUrl is not a valid PostgreSQL URL: "
        "a port is not a number from 1 to 65535"
    )
    assert found_in(failed.value.details + stderr) == []


def test_unexpected_provider_errors_are_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken:
        _settings = type("Settings", (), {"dsn": REFUSED})()

        @user_errors
        def create(self, props: dict[str, Any]) -> None:
            raise KeyError(f"{REFUSED} and {DB_PASSWORD}")

    with pytest.raises(ProviderError) as failed:
        Broken().create({})
    assert str(failed.value).startswith("unexpected KeyError: ")
    assert found_in(str(failed.value)) == []
    _, err = capsys.readouterr()
    assert "Traceback" in err and found_in(err) == []
