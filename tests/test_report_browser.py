"""The report of the bundled sample, as `scripts/run` makes it, rendered by headless Chromium.

Chromium is the Debian package (`.ci/run` installs it). Without it the test is skipped on a
developer's machine and fails on CI (CI=true), so a missing install never passes silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.cli import rows, run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "vercel-focus-sample.jsonl"
# CHROMIUM_BIN lets a machine with another build use it (GitHub's runners ship Chrome).
CHROMIUM = Path(os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"))
WINDOW = (1280, 2000)
# Console output of the page (the report has no script, so any is a problem), uncaught
# errors, and resources that failed to load.
PAGE_ERROR = re.compile(r":CONSOLE[:(]|Uncaught|Failed to load resource|net::ERR_")


def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def screenshot(page: Path, png: Path, profile: Path) -> str:
    """Render ``page`` to ``png``; returns Chromium's stderr."""
    done = subprocess.run(
        [
            str(chromium()),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def page_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PAGE_ERROR.search(line)]


@pytest.fixture
def sample_report(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    migrated_db: str,
    tmp_path: Path,
) -> Path:
    """scripts/run's steps on a database of its own: import, recommend, report."""
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    now = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sample_now.py"), str(SAMPLE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert now == "2026-11-25T09:00"  # an hour after the sample's last (Los Angeles) day
    for argv in (
        ["collect", "--focus-file", str(SAMPLE)],
        ["recommend", "--now", now],
        ["report", "--out", str(tmp_path / "report.html"), "--now", now],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    return tmp_path / "report.html"


def test_the_sample_report_renders_in_chromium_without_errors(
    sample_report: Path, migrated_db: str, tmp_path: Path
) -> None:
    html = sample_report.read_text()
    # The sample is worth looking at: states past the thresholds, and advice.
    assert "CRITICAL" in html and "WARNING" in html
    states = {r["state"] for r in rows(migrated_db, 'SELECT state FROM "UsageAssessment"')}
    assert {"CRITICAL", "WARNING"} <= states
    assert rows(migrated_db, 'SELECT id FROM "UpgradeRecommendation"')
    assert html.count('<figure id="chart-') == 9

    png = tmp_path / "report.png"
    stderr = screenshot(sample_report, png, tmp_path / "profile")
    assert page_errors(stderr) == []
    image = Image.open(png).convert("RGB")
    assert image.size == WINDOW
    colours = image.getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    assert colours is not None and len(colours) > 100  # text, tables and charts
    background = max(count for count, _ in colours)
    assert background < 0.95 * WINDOW[0] * WINDOW[1]


def test_the_error_check_sees_a_broken_page(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>broken</p>"
        "<script>console.error('boom'); notDefined();</script></body></html>"
    )
    stderr = screenshot(page, tmp_path / "broken.png", tmp_path / "profile")
    errors = page_errors(stderr)
    assert any("boom" in line for line in errors), stderr[-2000:]
    assert any("notDefined" in line for line in errors)
