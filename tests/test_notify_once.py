"""Exactly once: overlapping runs, and a run killed after the receiver got its message but
before the run recorded it. Real processes of `python -m jobs notify`, a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from tests.support import notify_data
from tests.support.fake_receivers import FakeReceivers, Received
from tests.support.notify_data import (
    NOW,
    config_routing_to,
    log_rows,
    put_assessment,
)

ROOT = Path(__file__).resolve().parent.parent

# The shared fixtures, by name.
receivers = notify_data.receivers
config_file = notify_data.config_file


def start(dsn: str, receivers: FakeReceivers, config: Path, now: datetime) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "VERCEL_TOKEN")}
    env |= {
        "DATABASE_URL": dsn,
        "SLACK_WEBHOOK_URL": receivers.slack_url,
        "NOTIFY_WEBHOOK_URL": receivers.webhook_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "notify", "--config", str(config), "--now", now.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


def test_overlapping_runs_send_each_message_once(
    migrated_db: str, receivers: FakeReceivers, config_file: Path
) -> None:
    put_assessment(migrated_db, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    put_assessment(migrated_db, "VERCEL_POSTGRES", "STORAGE_MB", "CRITICAL", plan="neon-free")
    receivers.delay = 0.5  # every answer is slow, so the runs overlap while sending
    runs = [start(migrated_db, receivers, config_file, NOW) for _ in range(3)]
    results = [finish(p) for p in runs]
    assert [code for code, _ in results] == [0, 0, 0], results
    assert len(receivers.slack_messages()) == 2  # Vercel and Neon, once each
    assert len(receivers.webhook_posts()) == 2
    assert {r["status"] for r in log_rows(migrated_db)} == {"sent"}
    assert len(log_rows(migrated_db)) == 4


def kill_when_received(receivers: FakeReceivers, proc: subprocess.Popen, path: str) -> None:
    """The receiver has the message; the run dies before it hears the answer."""

    def kill(got: Received) -> None:
        if got.path.startswith(path):
            os.kill(proc.pid, signal.SIGKILL)

    receivers.on_request = kill


def test_a_run_killed_between_send_and_record_is_resent_once_with_the_same_key(
    migrated_db: str, receivers: FakeReceivers, tmp_path: Path
) -> None:
    config = tmp_path / "hook.yaml"
    config.write_text(config_routing_to("hook"), encoding="utf-8")
    put_assessment(migrated_db, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    proc = start(migrated_db, receivers, config, NOW)
    kill_when_received(receivers, proc, "/hook")
    code, _ = finish(proc)
    assert code == -signal.SIGKILL
    receivers.on_request = None
    [row] = log_rows(migrated_db)
    assert (row["status"], row["attempts"]) == ("sending", 1)  # sent, not recorded
    # Within the lease another run leaves it alone (the first might still be sending).
    assert finish(start(migrated_db, receivers, config, NOW + timedelta(minutes=5)))[0] == 0
    assert len(receivers.webhook_posts()) == 1
    # After the lease the message is sent again, with the same idempotency key: the
    # receiver keeps one, and nothing is lost.
    code, output = finish(start(migrated_db, receivers, config, NOW + timedelta(minutes=11)))
    assert code == 0, output
    first, second = receivers.webhook_posts()
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.payload["resent"] is True
    assert len(receivers.delivered) == 1
    [row] = log_rows(migrated_db)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    # And it is never sent a third time.
    finish(start(migrated_db, receivers, config, NOW + timedelta(hours=1)))
    assert len(receivers.webhook_posts()) == 2


def test_slack_has_no_idempotency_key_so_the_resend_says_so(
    migrated_db: str, receivers: FakeReceivers, tmp_path: Path
) -> None:
    config = tmp_path / "slack.yaml"
    config.write_text(config_routing_to("slack"), encoding="utf-8")
    put_assessment(migrated_db, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    proc = start(migrated_db, receivers, config, NOW)
    kill_when_received(receivers, proc, "/services/")
    finish(proc)
    receivers.on_request = None
    finish(start(migrated_db, receivers, config, NOW + timedelta(minutes=11)))
    finish(start(migrated_db, receivers, config, NOW + timedelta(minutes=30)))
    first, second = receivers.slack_messages()
    assert "sent again" not in first
    assert second.splitlines()[1] == "_sent again: an earlier attempt may have been delivered_"
