"""``--now T`` means "as of T": recommend, status and report answer exactly as they would
if nothing after T existed, even with later windows (and one straddling T) in the tables."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from tests.support.cli import run
from tests.support.fake_apis import charge
from tests.support.workload import snapshot

T = datetime(2026, 11, 20, 12, 0)
NOW = ["--now", T.isoformat()]
BEFORE = [T.replace(hour=0) - timedelta(days=n) for n in range(40, 0, -1)]  # end by T
# A day that starts before T and ends after it, then the rest of the month: a burst that
# would change every state, forecast and recommendation if it were seen.
AFTER = [T.replace(hour=0) + timedelta(days=n) for n in range(9)]


def export(path: Path, days: list[datetime], gigabytes: float) -> Path:
    lines = [charge(day, "Fast Data Transfer", gigabytes, "GB", 1.5) for day in days]
    lines += [charge(day, "Edge Requests", 200_000, "Requests", 0.0) for day in days]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def answers(
    dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, out: Path
) -> dict[str, object]:
    """What recommend, status and report say as of T, and what recommend stored."""
    monkeypatch.setenv("DATABASE_URL", dsn)
    code, printed, err = run(capsys, "recommend", *NOW)
    said: dict[str, object] = {"recommend": (code, UUID.sub("<id>", printed), err)}
    said["status"] = run(capsys, "status", "--format", "json", *NOW)
    markdown = out / "summary.md"
    code, _, err = run(
        capsys, "report", "--out", str(out / "r.html"), "--markdown", str(markdown), *NOW
    )
    said["report"] = (code, err, markdown.read_text(encoding="utf-8"))
    said["stored"] = snapshot(dsn, ("UsageAssessment", "UpgradeRecommendation"))
    return said


def test_nothing_after_now_is_seen(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_database: Callable[..., str],
    schema_template: str,
    tmp_path: Path,
) -> None:
    for name in ("GITHUB_STEP_SUMMARY", "VERCEL_TOKEN", "NEON_API_KEY", "UPSTASH_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    before = export(tmp_path / "before.jsonl", BEFORE, 3.0)
    after = export(tmp_path / "after.jsonl", AFTER, 400.0)
    outcomes = []
    for files in ([before], [before, after]):
        dsn = make_database(template=schema_template)
        monkeypatch.setenv("DATABASE_URL", dsn)
        for file in files:
            assert run(capsys, "collect", "--focus-file", str(file))[0] == 0
        with psycopg.connect(dsn) as conn:  # the later windows really are there
            (latest,) = conn.execute(
                'SELECT max("windowEnd") FROM "InfrastructureMetric"'
            ).fetchone()  # type: ignore[misc]
        assert (latest > T) == (after in files)
        directory = tmp_path / str(len(files))
        directory.mkdir()
        outcomes.append(answers(dsn, capsys, monkeypatch, directory))
    alone, with_later = outcomes
    assert alone["recommend"][0] == 0  # type: ignore[index]
    assert with_later == alone


def test_status_as_of_hides_what_collect_did_later(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, migrated_db: str
) -> None:
    with psycopg.connect(migrated_db) as conn:
        conn.execute(
            """INSERT INTO "CollectionWatermark" (source, "collectedThrough", "lastAttemptAt",
                   "lastSuccessAt", "lastError", "lastErrorAt")
               VALUES ('vercel:billing', %(later)s, %(later)s, %(later)s, NULL, NULL),
                      ('neon:consumption', %(early)s, %(later)s, %(early)s,
                       'HTTP 503 after T', %(later)s)""",
            {"early": T - timedelta(minutes=30), "later": T + timedelta(hours=3)},
        )
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    _, out, _ = run(capsys, "status", "--format", "json", *NOW)
    sources = {s["source"]: s for s in json.loads(out)["sources"]}
    assert set(sources) == {"neon:consumption"}  # vercel was first attempted after T
    early = (T - timedelta(minutes=30)).isoformat(timespec="seconds") + "Z"
    assert sources["neon:consumption"] | {"level": "-"} == {
        "source": "neon:consumption",
        "level": "-",
        "lastSuccessAt": early,
        "lastAttemptAt": early,
        "collectedThrough": early,
        "lastError": None,
        "lastErrorAt": None,
        "lastNote": None,
    }


def open_recommendations(capsys: pytest.CaptureFixture[str], out: Path, *now: str) -> str:
    """The report's table of open recommendations (Markdown), as of ``now``."""
    markdown = out / "summary.md"
    code, _, err = run(
        capsys, "report", "--out", str(out / "r.html"), "--markdown", str(markdown), *now
    )
    assert (code, err) == (0, "")
    return "\n".join(
        line
        for line in markdown.read_text(encoding="utf-8").splitlines()
        if "upgrade" in line.lower() and line.startswith("| ")
    )


def test_report_lists_recommendations_as_they_stood(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    """Reviews after T and recommendations created after T are not in ``report --now T``;
    the review history (append-only) says what the status was then."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    before = export(tmp_path / "before.jsonl", BEFORE, 3.0)
    assert run(capsys, "collect", "--focus-file", str(before))[0] == 0
    assert run(capsys, "recommend", *NOW)[0] == 0
    code, out, _ = run(capsys, "recommendations", "list", "--format", "json")
    (rec,) = json.loads(out)
    as_of_t = open_recommendations(capsys, tmp_path, *NOW)
    assert "| PENDING |" in as_of_t

    # Reviewed now (after T), and another recommendation created after T.
    code, _, err = run(capsys, "recommendations", "review", rec["id"], "--by", "alice")
    assert (code, err) == (0, "")
    with psycopg.connect(migrated_db) as conn:
        conn.execute(
            """INSERT INTO "UpgradeRecommendation" (service, "currentPlan", "recommendedPlan",
                   title, reasoning, "createdAt")
               VALUES ('VERCEL_BLOB', 'hobby', 'pro', 'Upgrade later', 'r', %s)""",
            [T + timedelta(hours=1)],
        )
    assert open_recommendations(capsys, tmp_path, *NOW) == as_of_t
    later = open_recommendations(capsys, tmp_path, "--now", (T + timedelta(days=30)).isoformat())
    assert "| REVIEWED |" in later and "Upgrade later" in later
