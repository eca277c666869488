"""`python -m jobs report` for a known dataset: the charts, the summary's numbers, the
Markdown and the job summary, and bad output paths."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from jobs import outputs
from jobs.errors import ConfigError
from tests.support.cli import rows, run, write_daily

NOW = "2026-11-20T12:30"
OCT_1 = datetime(2026, 10, 1)
DAYS = 50  # Oct 1 .. Nov 19: 19 days in November


@pytest.fixture
def dataset(
    monkeypatch: pytest.MonkeyPatch, migrated_db: str, capsys: pytest.CaptureFixture[str]
) -> str:
    """Bandwidth at 79.8 of 100 GB (WARNING), invocations at 1.14M of 1M (CRITICAL), builds
    without a limit, and $0.50 of function cost a day; assessed by `recommend`."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    write_daily(migrated_db, OCT_1, [4.2] * DAYS)
    write_daily(
        migrated_db, OCT_1, [60_000.0] * DAYS, service="VERCEL_FUNCTIONS", metric="INVOCATIONS"
    )
    write_daily(
        migrated_db,
        OCT_1,
        [3.0] * DAYS,
        source="vercel-deployments",
        service="VERCEL_BUILD",
        metric="BUILDS",
    )
    write_daily(migrated_db, OCT_1, [0.5] * DAYS, service="VERCEL_FUNCTIONS", metric="COST_USD")
    code, _, err = run(capsys, "recommend", "--now", NOW)
    assert code == 0, err
    return migrated_db


def figure(html: str, key: str) -> str:
    """The <figure> of one chart."""
    match = re.search(rf'<figure id="chart-{key}".*?</figure>', html, re.DOTALL)
    assert match, f"no chart {key}"
    return match[0]


def report(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> tuple[str, str, str]:
    out, md = tmp_path / "report.html", tmp_path / "summary.md"
    code, stdout, err = run(
        capsys, "report", "--out", str(out), "--markdown", str(md), "--now", NOW, *extra
    )
    assert code == 0, err
    return out.read_text(), md.read_text(), stdout


def test_the_report_has_each_chart_with_its_lines(
    capsys: pytest.CaptureFixture[str], dataset: str, tmp_path: Path
) -> None:
    html, _, stdout = report(capsys, tmp_path)
    assert stdout.startswith(f"report: {tmp_path / 'report.html'} (3 charts; ")
    assert html.count("<svg") == 3
    for key in ("VERCEL_BANDWIDTH-BANDWIDTH_GB", "VERCEL_FUNCTIONS-INVOCATIONS"):
        chart = figure(html, key)
        for line in ("usage", "forecast", "band", "warning", "critical", "limit", "now"):
            assert f'id="{key}-{line}"' in chart, (key, line)
    builds = figure(html, "VERCEL_BUILD-BUILDS")
    assert 'id="VERCEL_BUILD-BUILDS-usage"' in builds
    assert 'id="VERCEL_BUILD-BUILDS-limit"' not in builds  # no plan limits builds
    # Costs are a table, not a chart; limited series without data are listed, not drawn.
    assert 'id="chart-VERCEL_FUNCTIONS-COST_USD"' not in html
    assert '<li id="nodata-VERCEL_KV-STORAGE_MB">' in html
    # One document: no id twice, even though every chart comes from matplotlib.
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []


def test_the_report_is_self_contained(
    capsys: pytest.CaptureFixture[str], dataset: str, tmp_path: Path
) -> None:
    html, _, _ = report(capsys, tmp_path)
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert re.findall(r'\ssrc="', html) == []
    assert {ref[0] for ref in re.findall(r'href="(.)', html)} <= {"#"}
    assert {ref for ref in re.findall(r"url\((.)", html)} <= {"#"}
    assert "<style>" in html


def test_the_summary_has_the_numbers_of_the_dataset(
    capsys: pytest.CaptureFixture[str], dataset: str, tmp_path: Path
) -> None:
    html, markdown, stdout = report(capsys, tmp_path)
    states = Counter(r["state"] for r in rows(dataset, 'SELECT state FROM "UsageAssessment"'))
    assert states["CRITICAL"] == 1 and states["WARNING"] == 1
    tally = ", ".join(
        f"{states[s]} {s}" for s in ("CRITICAL", "WARNING", "NO_DATA", "OK") if states[s]
    )
    open_recs = rows(
        dataset,
        """SELECT priority::text, "overageAvoided" FROM "UpgradeRecommendation"
           WHERE status IN ('PENDING', 'REVIEWED', 'APPROVED')""",
    )
    assert open_recs, "the dataset should produce a recommendation"
    expected = [
        f"States: {sum(states.values())} series: {tally}",
        f"Open recommendations: {len(open_recs)}",
        "Spend so far this period: $9.50",  # 19 November days x $0.50
    ]
    for text in expected:
        assert text in html, text
        assert text in markdown, text
    assert f"{sum(states.values())} series: {tally}" in stdout
    # The numbers of each series, from the data itself: 19 x 4.2 GB, 19 x 60,000 calls.
    assert "79.8 GB (80%)" in html
    assert "1.14M invocations (114%)" in html
    assert (
        "| WARNING | `VERCEL_BANDWIDTH/BANDWIDTH_GB` | vercel-hobby | 79.8 GB (80%) "
        "| 100 GB (hard) |"
    ) in markdown
    assert (
        "| CRITICAL | `VERCEL_FUNCTIONS/INVOCATIONS` | vercel-hobby | 1.14M invocations (114%) "
        "| 1M invocations (hard) |"
    ) in markdown
    assert "Breaches: 1 over the limit, " in markdown
    # The chart's caption carries the stored forecast of the series.
    caption = figure(html, "VERCEL_BANDWIDTH-BANDWIDTH_GB")
    assert "period end:" in caption
    # ... with how often its band held (the basis stored by `recommend`), here and in the table.
    basis = ("% coverage over ", "widened, not calibrated", "coverage not measured yet")
    assert "80% band" in caption and any(b in caption for b in basis)
    assert "80% band" in markdown


def test_the_job_summary_gets_the_markdown_appended(
    capsys: pytest.CaptureFixture[str],
    dataset: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step = tmp_path / "step-summary.md"
    step.write_text("### collection run\n\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    _, markdown, _ = report(capsys, tmp_path)
    assert step.read_text() == "### collection run\n\n" + markdown
    report(capsys, tmp_path)
    assert step.read_text() == "### collection run\n\n" + markdown + markdown
    assert markdown.startswith("### Usage report 2026-11-01 .. 2026-12-01 as of 2026-11-20 12:30")


def test_without_assessments_the_report_still_draws_the_data(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    write_daily(migrated_db, OCT_1, [4.2] * DAYS)
    html, markdown, _ = report(capsys, tmp_path)
    assert 'id="VERCEL_BANDWIDTH-BANDWIDTH_GB-limit"' in figure(
        html, "VERCEL_BANDWIDTH-BANDWIDTH_GB"
    )
    assert "run <code>python -m jobs recommend</code>" in html
    assert "States: 0 series: none assessed" in markdown


@pytest.mark.parametrize(
    ("option", "target", "message"),
    [
        ("--out", "missing/report.html", "directory {tmp}/missing does not exist"),
        ("--out", ".", "is a directory"),
        ("--markdown", "missing/summary.md", "directory {tmp}/missing does not exist"),
    ],
)
def test_a_bad_output_path_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    dataset: str,
    tmp_path: Path,
    option: str,
    target: str,
    message: str,
) -> None:
    old = tmp_path / "report.html"
    old.write_text("the previous report")
    paths = {"--out": str(old), "--markdown": str(tmp_path / "summary.md")}
    paths[option] = str(tmp_path / target)
    code, out, err = run(
        capsys, "report", "--out", paths["--out"], "--markdown", paths["--markdown"]
    )
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {option} ") and err.count("\n") == 1
    assert message.format(tmp=tmp_path) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert old.read_text() == "the previous report"


def test_a_database_without_the_schema_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    empty_db: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db)
    out = tmp_path / "report.html"
    code, stdout, err = run(capsys, "report", "--out", str(out))
    assert stdout == ""
    assert code == 2
    assert err.startswith("error: the database lacks the tables ") and "schema up" in err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ConfigError, match=r"--out .*report.html: cannot write: No space left"):
        outputs.write_atomically(target, "new", "--out")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
