"""`status` reports what `notify` could not deliver: a message given up is a problem (a
lost notification), one still retried is a warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import test_status
from tests.support.cli import run
from tests.support.notify_data import config_routing_to

healthy = test_status.healthy  # the shared fixture: bandwidth WARNING, everything else fine
NOW = test_status.NOW


def test_deliveries_given_up_fail_the_status_and_retries_warn(
    healthy: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(config_routing_to("slack").replace("max_attempts: 3", "max_attempts: 1"))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T1/B1/deadend")
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
    notify_at = NOW.isoformat()  # as of the assessments the fixture made
    code, out, _ = run(capsys, "notify", "--config", str(config), "--now", notify_at)
    assert code == 1 and "gave up" in out
    code, out, err = run(capsys, "status", "--now", NOW.isoformat(), "--format", "json")
    assert (code, err) == (1, "")
    verdict = json.loads(out)
    # One message per account (the NO_DATA series of Neon and Upstash are routed too).
    problems = verdict["problems"]
    assert [p.split(" after ")[0] for p in problems] == [
        f"notifications: gave up on a message to slack ({account})"
        for account in ("neon", "upstash", "vercel-team")
    ]
    assert all(": the receiver is unreachable (" in p for p in problems)
    assert "deadend" not in out
    assert verdict["notifications"]["sent"] == 0
    abandoned = verdict["notifications"]["abandoned"]
    assert {(d["receiver"], d["attempts"]) for d in abandoned} == {("slack", 1)}


def test_a_delivery_being_retried_only_warns(
    healthy: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(config_routing_to("slack"))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T1/B1/deadend")
    run(capsys, "notify", "--config", str(config), "--now", NOW.isoformat())
    code, out, _ = run(capsys, "status", "--now", NOW.isoformat())
    assert code == 0, out
    assert "ok    notifications: 0 messages sent in 24 h" in out
    assert "warn  notifications: retrying a message to slack (vercel-team) after 1 attempt: " in out
