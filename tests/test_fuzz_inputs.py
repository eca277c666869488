"""Bad input, generated: API payloads of every source, FOCUS files (JSON lines, CSV, bytes)
and limits files. Nothing raises but our errors, and every rejection is one line naming
what is wrong and where. (tests/test_limits_loader.py fuzzes single limits values.)"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.cli import main
from jobs.collect.focus import ChargeTotals
from jobs.collect.http import error_message, retry_delay
from jobs.collect.records import MetricRow
from jobs.collect.sources.base import DailyPlan
from jobs.collect.sources.focus_file import FocusFile
from jobs.collect.sources.neon import parse_consumption_page, project_rows
from jobs.collect.sources.upstash import stats_rows
from jobs.collect.sources.vercel_billing import read_charges
from jobs.collect.sources.vercel_deployments import NAME, build_rows, parse_page
from jobs.errors import ConfigError, LimitsError, PayloadError
from jobs.limits.loader import parse
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.fake_apis import charge, deployment, upstash_stats
from tests.support.fuzz import edge_edits, json_values, mutated

NOW = datetime(2026, 11, 20, 10, 0)
DAYS = [datetime(2026, 11, d) for d in (17, 18, 19)]
PLAN = DailyPlan.make(DAYS[0], NOW, timedelta(hours=1))


def rows_or_payload_error(parse_payload: Any) -> list[MetricRow] | PayloadError:
    """What a source's parser did: rows, or the one error it may raise."""
    try:
        rows = parse_payload()
    except PayloadError as exc:
        assert "\n" not in str(exc)
        return exc
    assert all(isinstance(r, MetricRow) for r in rows)
    return list(rows)


# -- API payloads, one parser per source -----------------------------------------------

CHARGES = [
    charge(DAYS[0], "Fast Data Transfer", 8.5, "GB", 0.0),
    charge(DAYS[1], "Edge Requests", 2e4, "Requests", 0.1),
]


def _stream(lines: list[Any]) -> Any:
    body = b"".join(
        (json.dumps(line) if not isinstance(line, str) else line).encode() + b"\n" for line in lines
    )
    response = httpx.Response(200, stream=httpx.ByteStream(body))
    totals = ChargeTotals()
    for line in asyncio.run(read_charges(response)):
        totals.add(line)
    return totals.rows()


@given(mutated(CHARGES))
def test_vercel_billing_lines(lines: Any) -> None:
    lines = lines if isinstance(lines, list) else [lines]
    rows_or_payload_error(lambda: _stream(lines))


@given(st.lists(st.one_of(json_values, st.text(max_size=40)), max_size=4))
def test_vercel_billing_stream_of_anything(lines: list[Any]) -> None:
    rows_or_payload_error(lambda: _stream(lines))


DEPLOYMENTS = {
    "deployments": [deployment("d1", DAYS[1], 95), deployment("d2", DAYS[2], None)],
    "pagination": {"count": 2, "next": 1731900000000},
}


@given(mutated(DEPLOYMENTS))
def test_vercel_deployments_page(payload: Any) -> None:
    rows_or_payload_error(lambda: build_rows(parse_page(payload, 1)[0], PLAN, NAME))


CONSUMPTION = {
    "projects": [
        {
            "project_id": "p1",
            "periods": [
                {
                    "consumption": [
                        {
                            "timeframe_start": "2026-11-18T00:00:00Z",
                            "timeframe_end": "2026-11-19T00:00:00Z",
                            "metrics": [
                                {"metric_name": "compute_unit_seconds", "value": 7200},
                                {"metric_name": "root_branch_bytes_month", "value": 5e10},
                                {"metric_name": "public_network_transfer_bytes", "value": 5e7},
                            ],
                        }
                    ]
                }
            ],
        }
    ],
    "pagination": {"cursor": "1"},
}


@given(mutated(CONSUMPTION))
def test_neon_consumption_page(payload: Any) -> None:
    rows_or_payload_error(lambda: parse_consumption_page(payload, 1).rows)


PROJECT = {
    "project": {
        "data_transfer_bytes": 4e9,
        "written_data_bytes": 1e6,
        "compute_time_seconds": 18_000,
        "active_time_seconds": 20_000,
        "synthetic_storage_size": 1.5e8,
        "consumption_period_start": "2026-11-01T00:00:00Z",
        "consumption_period_end": "2026-12-01T00:00:00Z",
    }
}


@given(mutated(PROJECT))
def test_neon_project(payload: Any) -> None:
    rows_or_payload_error(lambda: project_rows(payload, "p1", NOW))


STATS = upstash_stats(DAYS, [1000, 2500, 700], 12_000_000)


@given(mutated(STATS))
def test_upstash_stats(payload: Any) -> None:
    rows_or_payload_error(lambda: stats_rows(payload, "kv-1", PLAN, NOW))


SOURCES: dict[str, tuple[Any, Any]] = {
    "vercel billing": (CHARGES, lambda p: _stream(p if isinstance(p, list) else [p])),
    "vercel deployments": (DEPLOYMENTS, lambda p: build_rows(parse_page(p, 1)[0], PLAN, NAME)),
    "neon consumption": (CONSUMPTION, lambda p: parse_consumption_page(p, 1).rows),
    "neon project": (PROJECT, lambda p: project_rows(p, "p1", NOW)),
    "upstash": (STATS, lambda p: stats_rows(p, "kv-1", PLAN, NOW)),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_field_of_every_source_at_every_edge(source: str) -> None:
    """Deterministic and exhaustive: each field set to each edge value (NaN, 1e400, a bad
    date, a list...) or removed; the parser returns rows or one PayloadError."""
    base, parse_payload = SOURCES[source]
    for path, value, edited in edge_edits(base):
        try:
            rows_or_payload_error(lambda edited=edited: parse_payload(edited))
        except Exception as exc:  # pragma: no cover - the assertion below names the case
            pytest.fail(f"{source}: {path} = {value!r:.40}: {type(exc).__name__}: {exc}")


@given(json_values)
def test_any_json_at_all_for_every_source(payload: Any) -> None:
    for parse_payload in (
        lambda: build_rows(parse_page(payload, 1)[0], PLAN, NAME),
        lambda: parse_consumption_page(payload, 1).rows,
        lambda: project_rows(payload, "p1", NOW),
        lambda: stats_rows(payload, "kv-1", PLAN, NOW),
    ):
        rows_or_payload_error(parse_payload)


@given(
    st.dictionaries(st.sampled_from(["retry-after", "x-other"]), st.text(max_size=30), max_size=2),
    st.one_of(st.binary(max_size=80), json_values.map(lambda v: json.dumps(v).encode())),
)
def test_error_bodies_and_retry_headers(headers: dict[str, str], body: bytes) -> None:
    """What an API answers with an error: read without raising, a delay never negative."""
    delay = retry_delay(headers, body, now=1_763_000_000.0)
    assert delay is None or delay >= 0
    message = error_message(body)
    assert message and "\n" not in message and len(message) <= 200


# -- FOCUS files -----------------------------------------------------------------------

FOCUS_COLUMNS = list(CHARGES[0])


def focus_outcome(path: Path) -> None:
    """The file imports, or is refused with one line naming it."""
    try:
        FocusFile(path).read()
    except (PayloadError, ConfigError) as exc:
        text = str(exc)
        assert "\n" not in text
        assert str(path) in text or path.name in text, text


@given(mutated(CHARGES, max_edits=4))
def test_focus_json_lines(records: Any) -> None:
    records = records if isinstance(records, list) else [records]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        focus_outcome(path)


@pytest.mark.parametrize("form", ["jsonl", "csv"])
def test_every_focus_field_at_every_edge(form: str, tmp_path: Path) -> None:
    path = tmp_path / f"export.{form}"
    for field_path, value, edited in edge_edits(CHARGES):
        records = edited if isinstance(edited, list) else [edited]
        if form == "jsonl":
            path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=FOCUS_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for record in records:
                if isinstance(record, dict):
                    writer.writerow(
                        {
                            k: json.dumps(v) if isinstance(v, dict | list) else v
                            for k, v in record.items()
                        }
                    )
            path.write_text(buffer.getvalue(), encoding="utf-8")
        try:
            focus_outcome(path)
        except Exception as exc:  # pragma: no cover - names the case
            pytest.fail(f"{form}: {field_path} = {value!r:.40}: {type(exc).__name__}: {exc}")


csv_cells = st.one_of(
    st.text(max_size=12), st.sampled_from(["", "Usage", "GB", "1e999", '{"a":', "\n"])
)


@given(
    st.lists(st.sampled_from([*FOCUS_COLUMNS, "Extra", ""]), min_size=1, max_size=8),
    st.lists(st.lists(csv_cells, max_size=9), max_size=4),
)
def test_focus_csv(header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        focus_outcome(path)


@given(st.binary(max_size=200), st.sampled_from(["x.jsonl", "x.csv", "x.csv.gz", "x"]))
def test_focus_file_of_any_bytes(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        focus_outcome(path)


# -- limits.yaml -----------------------------------------------------------------------

REAL_LIMITS = DEFAULT_LIMITS_FILE.read_text(encoding="utf-8")
# file[:line]: key: message, the key quoted when it is odd ('' or 'a: b').
_PROBLEM = re.compile(r"^limits\.yaml(:\d+)?: (\S+|.*'[^']*'.*|.*\"[^\"]*\".*): \S.*$")


def limits_outcome(text: str) -> None:
    try:
        parse(text, "limits.yaml")
    except LimitsError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert _PROBLEM.match(problem), problem


@st.composite
def edited_lines(draw: st.DrawFn) -> str:
    """The real limits.yaml with whole lines deleted, duplicated, re-indented or replaced."""
    lines = REAL_LIMITS.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "replace"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "  " + lines[index]
        elif action == "dedent":
            lines[index] = lines[index].lstrip()
        else:
            lines[index] = draw(st.text(max_size=30).filter(lambda t: "\n" not in t))
    cut = draw(st.integers(0, 3))
    text = "\n".join(lines) + "\n"
    return text[: len(text) - cut * draw(st.integers(0, 40))]


@settings(max_examples=60)
@given(edited_lines())
def test_limits_file_with_lines_edited(text: str) -> None:
    limits_outcome(text)


@given(json_values)
def test_limits_file_of_any_yaml_document(document: Any) -> None:
    limits_outcome(yaml.safe_dump(document, allow_unicode=True))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=120), edited_lines().map(str.encode)))
def test_limits_check_rejects_in_lines_naming_the_file(
    scratch: Path, data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scratch / "limits.yaml"
    path.write_bytes(data)
    code = main(["limits", "check", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 1)
    if code:
        assert out == "" and err
        for line in err.splitlines():
            assert line.startswith(f"{path}") and ": " in line, line
