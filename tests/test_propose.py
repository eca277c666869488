"""Approval as a pull request: `recommendations propose` and `sync-prs` against a local
GitHub API, and the next `recommend` marking the merged upgrade IMPLEMENTED."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobs.cli import main
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.fake_github import REPOSITORY, FakeGitHub, Reply
from tests.support.notify_data import NOW, put_recommendation

LIMITS = DEFAULT_LIMITS_FILE.read_text(encoding="utf-8")
ACCOUNT_LINE = "  vercel-team: {plan: vercel-hobby}"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, migrated_db: str) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    with FakeGitHub() as fake:
        fake.commit("main", {"limits.yaml": LIMITS})
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        yield fake


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_propose_opens_one_pull_request_that_changes_exactly_the_plan_lines(
    migrated_db: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = put_recommendation(migrated_db)
    code, out = run(capsys, "recommendations", "propose", rec)
    assert code == 0, out
    [pull] = github.pulls.values()
    assert out == (
        f"recommendation {rec}: pull request #{pull['number']} opened {pull['html_url']}\n"
    )
    assert pull["title"] == "Upgrade vercel-team from vercel-hobby to vercel-pro"
    assert pull["head"]["ref"] == f"infra-monitoring/upgrade-{rec}"
    assert pull["base"]["ref"] == "main"
    proposed = github.files[(pull["head"]["ref"], "limits.yaml")]
    diff = changed_lines(LIMITS, proposed)
    # The team's plan moves (a plan belongs to the whole team, every Vercel service with
    # it), nothing else changes.
    assert diff == [f"-{ACCOUNT_LINE}", "+" + ACCOUNT_LINE.replace("vercel-hobby", "vercel-pro")]
    [comment] = github.comments[pull["number"]]
    text = comment["body"]
    assert "### Monthly cost estimate: vercel-hobby → vercel-pro" in text
    assert "| plan price per month | $0.00 | $20.00 | **+$20.00** |" in text
    assert "| projected bill this period (price + overage) | $50.00 | $20.00 | -$30.00 |" in text
    assert "- overage avoided: **$30.00**" in text
    assert "Why: bandwidth will pass the hard limit before period end" in text
    # Proposing again finds it: no second branch, commit, pull request or comment.
    writes = [r for r in github.requests if r[0] != "GET"]
    code, out = run(capsys, "recommendations", "propose", rec)
    assert code == 0 and "already open" in out
    assert [r for r in github.requests if r[0] != "GET"] == writes


def test_a_proposal_interrupted_halfway_finishes_on_the_next_try(
    migrated_db: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = put_recommendation(migrated_db)
    github.script(f"POST /repos/{REPOSITORY}/pulls", Reply(502, {"message": "Server Error"}))
    code, out = run(capsys, "recommendations", "propose", rec)
    assert code == 1
    assert out.strip() == (f"error: GitHub POST /repos/{REPOSITORY}/pulls: HTTP 502: Server Error")
    assert github.pulls == {}
    code, out = run(capsys, "recommendations", "propose", rec)
    assert code == 0, out
    assert len(github.pulls) == 1
    puts = [r for r in github.requests if r[0] == "PUT"]
    assert len(puts) == 1  # the file was edited once, by the first try


def test_merge_is_the_approval_and_the_next_recommend_implements_it(
    migrated_db: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rec = put_recommendation(migrated_db)
    assert run(capsys, "recommendations", "propose", rec)[0] == 0
    [number] = github.pulls
    code, out = run(capsys, "recommendations", "sync-prs")
    assert (code, out) == (0, "sync-prs: 0 merged pull requests recorded as approvals\n")
    github.merge(number, by="bob")
    code, out = run(capsys, "recommendations", "sync-prs", "--now", NOW.isoformat())
    assert code == 0, out
    assert f"recommendation {rec}: APPROVED by github:bob (pull request #{number})" in out
    merged = tmp_path / "limits.yaml"
    merged.write_text(github.files[("main", "limits.yaml")], encoding="utf-8")
    code, out = run(capsys, "recommend", "--limits", str(merged), "--now", NOW.isoformat())
    assert code == 0, out
    with psycopg.connect(migrated_db) as conn:
        status, history = conn.execute(
            'SELECT status::text, "reviewHistory" FROM "UpgradeRecommendation" WHERE id = %s',
            [rec],
        ).fetchone()  # type: ignore[misc]
    assert status == "IMPLEMENTED"
    assert [(h["by"], h["to"], h["reason"]) for h in history] == [
        ("github:bob", "APPROVED", None),
        ("recommend-job", "IMPLEMENTED", "plan-changed"),
    ]
    assert history[0]["note"].startswith(f"merged https://github.com/{REPOSITORY}/pull/{number}")
    # A merged proposal is not proposed again.
    code, out = run(capsys, "recommendations", "propose", rec)
    assert code == 1 and "only open ones are proposed" in out


def test_all_critical_proposes_only_the_critical_ones(
    migrated_db: str, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    put_recommendation(migrated_db, priority="HIGH")
    critical = put_recommendation(
        migrated_db,
        service="VERCEL_POSTGRES",
        current="neon-free",
        target="neon-launch",
        priority="CRITICAL",
    )
    code, out = run(capsys, "recommendations", "propose", "--all-critical")
    assert code == 0, out
    [pull] = github.pulls.values()
    assert pull["head"]["ref"].endswith(critical)
    diff = changed_lines(LIMITS, github.files[(pull["head"]["ref"], "limits.yaml")])
    assert diff == [
        "-  neon: {plan: neon-free}",
        "+  neon: {plan: neon-launch}",
    ]


def test_bad_requests_are_one_line_errors(
    migrated_db: str,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "recommendations", "propose") == (
        2,
        "error: recommendations propose: give one ID, or --all-critical\n",
    )
    code, out = run(capsys, "recommendations", "propose", "nope")
    assert (code, out) == (1, "error: no recommendation with id 'nope'\n")
    rec = put_recommendation(migrated_db)
    monkeypatch.delenv("GITHUB_TOKEN")
    code, out = run(capsys, "recommendations", "propose", rec)
    assert (code, out) == (2, "error: GITHUB_TOKEN is not set: a GitHub token is needed\n")
    assert json.dumps(github.pulls) == "{}"
