"""Recommendations as GitHub issues (a notify receiver), against a local GitHub API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.support.fake_github import REPOSITORY, TOKEN, FakeGitHub, Reply
from tests.support.notify_data import (
    NOW,
    log_rows,
    put_recommendation,
    run_notify,
    set_recommendation,
)

CONFIG = """\
receivers:
  issues: {type: github-issues, env: GITHUB_TOKEN}
routes:
  - receiver: issues
    match: {kind: recommendation}
"""


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, migrated_db: str, github: FakeGitHub) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    for name, value in github.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
    return migrated_db


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "notifications.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def notify(capsys: pytest.CaptureFixture[str], config: Path, minutes: int = 0) -> tuple[int, str]:
    code, out, err = run_notify(capsys, config, NOW + timedelta(minutes=minutes))
    return code, out + err


def labels(issue: dict) -> set[str]:
    return {label["name"] for label in issue["labels"]}


def edits(github: FakeGitHub) -> int:
    return sum(1 for method, _ in github.requests if method in ("POST", "PATCH"))


def close_with_history(dsn: str, rec: str, status: str, by: str, reason: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """UPDATE "UpgradeRecommendation" SET status = %s, "updatedAt" = %s,
               "reviewHistory" = "reviewHistory" || jsonb_build_array(jsonb_build_object(
                   'at', '2026-11-20T13:00:00', 'by', %s::text, 'from', 'PENDING',
                   'to', %s::text, 'note', NULL, 'reason', %s::text))
               WHERE id = %s""",
            [status, NOW, by, status, reason, rec],
        )


def test_one_issue_per_recommendation_created_updated_and_closed(
    env: str, github: FakeGitHub, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = put_recommendation(env, priority="HIGH")
    code, out = notify(capsys, config)
    assert code == 0, out
    [issue] = github.issues.values()
    assert issue["title"] == "[HIGH] Upgrade vercel-team from vercel-hobby to vercel-pro"
    assert f"<!-- infra-monitoring:recommendation:{rec} -->" in issue["body"]
    assert "Why: bandwidth will pass the hard limit before period end" in issue["body"]
    assert labels(issue) == {"infra-monitoring", "status:pending", "priority:high"}
    assert {"infra-monitoring", "status:pending", "priority:high"} <= set(github.labels)
    # Nothing moved: nothing is written to GitHub.
    before = edits(github)
    notify(capsys, config, 15)
    assert edits(github) == before
    # Its numbers move: the same issue is edited.
    set_recommendation(env, rec, overage_avoided=45.0)
    notify(capsys, config, 30)
    assert len(github.issues) == 1
    assert "overage avoided                      $45.00" in issue["body"]
    set_recommendation(env, rec, priority="CRITICAL")
    notify(capsys, config, 45)
    assert labels(issue) == {"infra-monitoring", "status:pending", "priority:critical"}
    assert issue["title"].startswith("[CRITICAL] ")
    # It ends: a comment with the reason, then closed as not planned.
    close_with_history(env, rec, "DISMISSED", "alice", "too-expensive")
    notify(capsys, config, 60)
    notify(capsys, config, 75)
    assert issue["state"] == "closed" and issue["state_reason"] == "not_planned"
    assert labels(issue) == {"infra-monitoring", "status:dismissed"}
    [comment] = github.comments[issue["number"]]
    assert "Resolved: DISMISSED by alice too-expensive." in comment["body"]


def test_an_implemented_recommendation_closes_as_completed(
    env: str, github: FakeGitHub, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = put_recommendation(env)
    notify(capsys, config)
    close_with_history(env, rec, "IMPLEMENTED", "recommend-job", "plan-changed")
    notify(capsys, config, 15)
    [issue] = github.issues.values()
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")


def test_a_crash_after_creating_the_issue_never_opens_a_second_one(
    env: str, github: FakeGitHub, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Other labelled issues on several pages: the marker is still found.
    github.page_size_cap = 2
    for n in range(5):
        github.issues[100 + n] = {
            "number": 100 + n,
            "title": f"other {n}",
            "body": "not ours",
            "state": "open",
            "labels": [{"name": "infra-monitoring"}],
        }
    put_recommendation(env)
    notify(capsys, config)
    # The state a crash between GitHub's answer and the commit leaves behind.
    with psycopg.connect(env) as conn:
        conn.execute(
            """UPDATE "NotificationLog" SET status = 'sending', "leaseUntil" = %s""",
            [NOW + timedelta(minutes=10)],
        )
    code, out = notify(capsys, config, 11)
    assert code == 0, out
    ours = [i for i in github.issues.values() if i["body"] != "not ours"]
    assert len(ours) == 1
    [row] = log_rows(env)
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_github_errors_are_retried_by_the_next_run_without_the_token(
    env: str, github: FakeGitHub, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_recommendation(env)
    github.script(
        f"POST /repos/{REPOSITORY}/issues",
        Reply(
            403,
            {"message": f"API rate limit exceeded for {TOKEN}", "documentation_url": "x"},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"},
        ),
    )
    code, out = notify(capsys, config)
    assert code == 1
    assert "HTTP 403: API rate limit exceeded for ***" in out and TOKEN not in out
    assert github.issues == {}
    code, out = notify(capsys, config, 15)
    assert code == 0, out
    assert len(github.issues) == 1
    assert all(TOKEN not in str(r) for r in log_rows(env))


def test_bad_credentials_are_a_failed_delivery(
    env: str,
    github: FakeGitHub,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrongtoken123456")
    put_recommendation(env)
    code, out = notify(capsys, config)
    assert code == 1
    assert "GitHub GET /repos/acme/infra/issues: HTTP 401: Bad credentials" in out
    assert "ghs_wrongtoken123456" not in out


def test_the_repository_must_be_named(
    env: str, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_REPOSITORY")
    code, out = notify(capsys, config)
    assert code == 2
    assert out.strip() == ("error: GITHUB_REPOSITORY is not set: name the repository as owner/name")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme")
    assert notify(capsys, config) == (
        2,
        "error: GITHUB_REPOSITORY must be owner/name, not 'acme'\n",
    )
