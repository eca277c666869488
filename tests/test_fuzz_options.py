"""Every numeric option, every `--now` and every numeric or URL environment variable, fuzzed:
the answer is always one line and exit 2 for a bad value (never "unexpected"), and the
most extreme values accepted leave nothing behind that makes a later run fail."""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobs.cli import main
from jobs.collect.http import error_message
from jobs.collect.sources.focus_file import FocusFile
from jobs.collect.sources.vercel_billing import read_charges
from jobs.commands.options import EARLIEST_NOW, LATEST_NOW, MAX_DAYS
from jobs.errors import PayloadError
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.cli import run
from tests.support.fake_apis import charge

REFUSED_DB = "postgresql://jobs@127.0.0.1:1/monitoring"
FUZZ = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.floats().map(repr),
    st.floats().map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        [
            *("nan", "-NaN", "inf", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "0"),
            *("0.0", "1_000", "0x10", " 5 ", "5e308", "9" * 5000, "٣", "1e3", "1.5", "\udc80"),
        ]
    ),
    st.text(max_size=20),
)
moments = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.sampled_from(
        [
            *("0001-01-01", "9999-12-31T23:59:59", "9999-12-31T23:59:59-05:00"),
            *("0001-01-01T00:00+05:00", "2026-02-30", "2100-01-01", "1999-12-31T23:59"),
        ]
    ),
    st.text(max_size=30),
)

OPTIONS = {
    "recommend --for": ["recommend", "--for"],
    "recommend --no-data-after-hours": ["recommend", "--no-data-after-hours"],
    "recommend --snooze-days": ["recommend", "--snooze-days"],
    "recommend --expire-after-days": ["recommend", "--expire-after-days"],
    "recommend --ttl-days": ["recommend", "--ttl-days"],
    "recommend --lookback-days": ["recommend", "--lookback-days"],
    "backtest --lookback-days": ["backtest", "--lookback-days"],
    "status --source-stale-after-hours": ["status", "--source-stale-after-hours"],
    "report --lookback-days": ["report", "--out", "{tmp}/r.html", "--lookback-days"],
    "collect --lock-wait": ["collect", "--lock-wait"],
    "collect --backfill-days": ["collect", "--backfill-days"],
}
NOW_OPTIONS = {
    "recommend --now": ["recommend", "--now"],
    "backtest --now": ["backtest", "--now"],
    "status --now": ["status", "--now"],
    "report --now": ["report", "--out", "{tmp}/r.html", "--now"],
}
ENV = {
    "COLLECT_HTTP_TIMEOUT": "{}",
    "COLLECT_RETRY_ATTEMPTS": "{}",
    "COLLECT_RETRY_BUDGET": "{}",
    "COLLECT_SOURCE_BUDGET": "{}",
    "COLLECT_MAX_RESPONSE_MB": "{}",
    "COLLECT_BACKFILL_DAYS": "{}",
    "VERCEL_API_URL": "http://127.0.0.1:{}",
    "NEON_API_URL": "http://127.0.0.1:{}/api/v2",
    "DATABASE_URL": "postgresql://jobs@127.0.0.1:{}/monitoring",
}


def outcome(capsys: pytest.CaptureFixture[str], argv: list[str]) -> int:
    """Run the CLI; whatever happens is one line, and never a bug."""
    code, out, err = run(capsys, *argv)  # argparse's refusals come back as exit 2
    assert code in (0, 1, 2), (code, out, err)
    assert "unexpected" not in err and "Traceback" not in err, err
    if code == 2 or err:  # (status says "unhealthy" on stdout, exit 1, no error)
        assert err.startswith("error: ") and err.count("\n") == 1, (out, err)
    return code


@pytest.fixture
def refused_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV, "GITHUB_STEP_SUMMARY", "NEON_API_KEY", "UPSTASH_API_KEY"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", REFUSED_DB)
    monkeypatch.setenv("VERCEL_TOKEN", "vercel-fuzz-token")


@pytest.mark.usefixtures("refused_env")
@pytest.mark.parametrize("option", list(OPTIONS))
@FUZZ
@given(value=numbers)
@example(value="nan")
@example(value="inf")
@example(value="1e308")
def test_every_numeric_option(
    option: str, value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in OPTIONS[option]]
    outcome(capsys, [*argv, value])


@pytest.mark.usefixtures("refused_env")
@pytest.mark.parametrize("option", list(NOW_OPTIONS))
@FUZZ
@given(value=moments)
@example(value="9999-12-31T23:59:59")
@example(value="0001-01-01T00:00+05:00")
def test_every_now(
    option: str, value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in NOW_OPTIONS[option]]
    code = outcome(capsys, [*argv, value])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return
    if moment.tzinfo is None and not EARLIEST_NOW <= moment < LATEST_NOW:
        assert code == 2


@pytest.mark.usefixtures("refused_env")
@pytest.mark.parametrize("name", list(ENV))
@FUZZ
@given(value=numbers.filter(lambda v: "\x00" not in v))
@example(value="99999")
@example(value="0")
@example(value="nan")
def test_every_numeric_environment_variable(
    name: str, value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        monkeypatch.setenv(name, ENV[name].format(value))
    except UnicodeEncodeError:
        return  # the operating system cannot hold it either
    outcome(capsys, ["collect"])


# -- the most extreme values accepted, on a real database --------------------------------


def test_the_extremes_accepted_leave_later_runs_working(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    days = [datetime(2026, 10, 1) + timedelta(days=n) for n in range(50)]
    export = tmp_path / "usage.jsonl"
    export.write_text(
        "".join(json.dumps(charge(d, "Fast Data Transfer", 9.0, "GB", 1.0)) + "\n" for d in days)
    )
    assert outcome(capsys, ["collect", "--focus-file", str(export)]) == 0
    latest = (LATEST_NOW - timedelta(minutes=1)).isoformat()
    extremes = [
        *("--for", "1000", "--no-data-after-hours", str(24 * MAX_DAYS)),
        *("--snooze-days", str(MAX_DAYS), "--expire-after-days", str(MAX_DAYS)),
        *("--ttl-days", str(MAX_DAYS), "--lookback-days", str(MAX_DAYS)),
    ]
    for now in (EARLIEST_NOW.isoformat(), "2026-11-20T12:00", latest):
        assert outcome(capsys, ["recommend", "--now", now, *extremes]) == 0
        assert outcome(capsys, ["recommend", "--now", now, "--ttl-days", "1e-9"]) == 0
    for now in (EARLIEST_NOW.isoformat(), latest):
        report = ["report", "--out", str(tmp_path / "r.html"), "--now", now]
        assert outcome(capsys, [*report, "--lookback-days", str(MAX_DAYS)]) == 0
        assert outcome(capsys, ["status", "--now", now, "--source-stale-after-hours", "1e-9"]) in (
            0,
            1,
        )
    # Whatever those runs stored, an ordinary run still reads and writes it.
    assert outcome(capsys, ["recommend"]) == 0
    assert outcome(capsys, ["recommendations", "list", "--all", "--format", "json"]) == 0
    with psycopg.connect(migrated_db) as conn:
        assert conn.execute('SELECT count(*) FROM "UsageAssessment"').fetchone() != (0,)


# -- other values at the boundary ------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        gzip.compress(b'{"ServiceName": "Fast Data Transfer"}\n' * 200)[:-30],  # cut short
        b"\x1f\x8b\x08\x00garbage-not-deflate",
    ],
    ids=["truncated gzip", "corrupt gzip"],
)
def test_a_broken_gzip_file_fails_its_source_in_one_line(
    content: bytes,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(content)
    assert main(["collect", "--focus-file", str(path)]) == 2  # a user error
    out, err = capsys.readouterr()
    assert err == "" and f"{path}: cannot be read" in out and "unexpected" not in out


def test_deeply_nested_tags_fail_their_line(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    line = json.dumps(charge(datetime(2026, 11, 1), "Fast Data Transfer", 1.0, "GB", 0.1))
    nested = line.replace('"Tags": {', '"Tags": {"x": ' + "[" * 100_000 + "]" * 100_000 + ", ")
    path.write_text(nested + "\n")
    with pytest.raises(PayloadError) as failed:
        FocusFile(path).read()
    assert str(failed.value) == (f"1 bad rows, nothing imported: {path}:1: JSON nested too deeply")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--by", "eve\nforged: APPROVED"], "argument --by: holds a line break or another"),
        (["--by", "\udcff\udcfe"], "argument --by: holds bytes that are not valid UTF-8"),
        (["--by", "bob", "--note", "ok\x1b[2J"], "argument --note: holds a line break or"),
        (["--by", "  "], "argument --by: is empty"),
        (["--by", "x" * 101], "argument --by: is longer than 100 characters"),
    ],
)
def test_text_that_is_not_one_line_of_text_is_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["recommendations", "approve", "some-id", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1


def test_an_undecodable_file_name_is_shown_escaped(tmp_path: Path) -> None:
    """A name with a byte that is not UTF-8 reaches Python as a lone surrogate; printing it
    to a UTF-8 stdout used to crash."""
    named = os.fsdecode(bytes(tmp_path) + b"/limits-\xff.yaml")
    shutil.copyfile(DEFAULT_LIMITS_FILE, named)
    done = subprocess.run(
        [sys.executable, "-m", "jobs", "limits", "check", named],
        capture_output=True,
        env=os.environ | {"PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"},
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(bytes(tmp_path) + b"/limits-\\udcff.yaml: ok, ")


DEEP = "[" * 50_000 + "]" * 50_000  # beyond the recursion limit, within CSV field size


def test_deeply_nested_json_from_an_api_or_a_csv_is_a_payload_error(tmp_path: Path) -> None:
    assert error_message(DEEP.encode()) == DEEP[:200]
    body = httpx.Response(200, stream=httpx.ByteStream(DEEP.encode() + b"\n"))
    with pytest.raises(PayloadError, match="line 1 of the charges stream is not valid JSON"):
        asyncio.run(read_charges(body))
    path = tmp_path / "export.csv"
    row = charge(datetime(2026, 11, 1), "Fast Data Transfer", 1.0, "GB", 0.1) | {"Tags": DEEP}
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    with pytest.raises(PayloadError, match="Tags is not a JSON object"):
        FocusFile(path).read()
