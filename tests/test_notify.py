"""`python -m jobs notify` against local Slack and webhook servers: what is sent, grouped,
inhibited, repeated, resolved and silenced, each transition exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from jobs.collect import store as metrics_store
from jobs.collect.records import MetricRow
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support import notify_data
from tests.support.fake_receivers import SLACK_PATH, FakeReceivers, Reply
from tests.support.notify_data import (
    CONFIG,
    NOW,
    config_routing_to,
    log_rows,
    put_assessment,
    put_recommendation,
    put_source,
    run_notify,
    set_recommendation,
)

# The shared fixtures, by name.
receivers = notify_data.receivers
config_file = notify_data.config_file


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, migrated_db: str, receivers: FakeReceivers) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_db)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receivers.slack_url)
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receivers.webhook_url)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return migrated_db


notify = run_notify


def test_a_series_is_told_when_it_warns_escalates_and_resolves_once_each(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    code, out, _ = notify(capsys, config_file)
    assert code == 0, out
    [first] = receivers.slack_messages()
    assert "[FIRING:1] vercel-team" in first and "VERCEL_BANDWIDTH/BANDWIDTH_GB WARNING" in first
    # The same state again: nothing new, however often it runs.
    for minutes in (15, 30, 45):
        assert notify(capsys, config_file, NOW + timedelta(minutes=minutes))[0] == 0
    assert len(receivers.slack_messages()) == 1
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "CRITICAL", usage=95)
    notify(capsys, config_file, NOW + timedelta(hours=1))
    assert "BANDWIDTH_GB CRITICAL" in receivers.slack_messages()[1]
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "OK", usage=10)
    notify(capsys, config_file, NOW + timedelta(hours=2))
    notify(capsys, config_file, NOW + timedelta(hours=3))
    messages = receivers.slack_messages()
    assert len(messages) == 3
    assert "[RESOLVED:1] vercel-team" in messages[2]
    # The webhook got the same three, each with its own idempotency key.
    posts = receivers.webhook_posts()
    assert [p.payload["status"] for p in posts] == ["firing", "firing", "resolved"]
    assert len({p.headers["idempotency-key"] for p in posts}) == 3


def test_one_message_per_account_per_run(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    put_assessment(env, "VERCEL_FUNCTIONS", "INVOCATIONS", "CRITICAL", usage=95)
    put_assessment(env, "VERCEL_POSTGRES", "STORAGE_MB", "WARNING", plan="neon-free")
    notify(capsys, config_file)
    messages = sorted(receivers.slack_messages())
    assert len(messages) == 2
    neon, vercel = messages
    assert neon.startswith("*[FIRING:1] neon*")
    assert vercel.startswith("*[FIRING:2] vercel-team*")
    # Most severe first inside a message.
    assert vercel.index("INVOCATIONS CRITICAL") < vercel.index("BANDWIDTH_GB WARNING")
    assert sorted(p.payload["groupKey"] for p in receivers.webhook_posts()) == [
        "neon",
        "vercel-team",
    ]


def test_critical_inhibits_the_warning_of_the_same_series(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soon = NOW + timedelta(days=2)
    # The band edge reaches the hard limit in 2 days: a forecast warning on its own...
    put_assessment(env, "VERCEL_FUNCTIONS", "INVOCATIONS", "WARNING", breach_at_upper=soon)
    # ...but this series is CRITICAL: its forecast warning is inhibited.
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "CRITICAL", breach_at_upper=soon)
    notify(capsys, config_file)
    [message] = receivers.slack_messages()
    assert "INVOCATIONS may pause around 2026-11-22" in message
    assert "BANDWIDTH_GB CRITICAL" in message
    assert "BANDWIDTH_GB may pause" not in message
    kinds = sorted(
        (r["fingerprint"], r["severity"]) for r in log_rows(env) if r["receiver"] == "slack"
    )
    assert ("forecast:VERCEL_BANDWIDTH/BANDWIDTH_GB", "warning") not in kinds


def test_a_forecast_reaching_the_limit_at_the_mean_is_critical_only_for_hard_limits(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "OK", breach_at=NOW + timedelta(days=3))
    # Beyond the 7-day horizon: nothing.
    put_assessment(env, "VERCEL_FUNCTIONS", "INVOCATIONS", "OK", breach_at=NOW + timedelta(days=9))
    # Vercel Pro bandwidth is billed, not paused: no forecast alert.
    put_assessment(
        env,
        "VERCEL_BUILD",
        "BUILD_MINUTES",
        "OK",
        plan="vercel-pro",
        breach_at=NOW + timedelta(days=1),
    )
    notify(capsys, config_file)
    [message] = receivers.slack_messages()
    assert ":red_circle: *VERCEL_BANDWIDTH/BANDWIDTH_GB may pause around 2026-11-23*" in message
    assert "INVOCATIONS" not in message and "BUILD_MINUTES" not in message


def test_what_keeps_firing_is_repeated_after_the_interval(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    notify(capsys, config_file)
    notify(capsys, config_file, NOW + timedelta(hours=23))
    assert len(receivers.slack_messages()) == 1
    notify(capsys, config_file, NOW + timedelta(hours=24))
    notify(capsys, config_file, NOW + timedelta(hours=25))
    assert len(receivers.slack_messages()) == 2
    notify(capsys, config_file, NOW + timedelta(hours=48))
    assert len(receivers.slack_messages()) == 3
    changes = [r["dedupKey"] for r in log_rows(env) if r["receiver"] == "slack"]
    assert len(changes) == len(set(changes)) == 3


def test_silences_hold_until_they_expire(
    env: str, receivers: FakeReceivers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(
        CONFIG
        + "silences:\n"
        + "  - match: {service: VERCEL_BANDWIDTH, kind: series}\n"
        + "    expires: 2026-11-21T00:00:00Z\n"
        + "    reason: planned migration\n"
        + "    by: alice\n",
        encoding="utf-8",
    )
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    put_assessment(env, "VERCEL_FUNCTIONS", "INVOCATIONS", "WARNING")
    notify(capsys, config)
    [message] = receivers.slack_messages()
    assert "INVOCATIONS" in message and "BANDWIDTH_GB" not in message
    notify(capsys, config, NOW + timedelta(hours=11, minutes=59))
    assert len(receivers.slack_messages()) == 1
    notify(capsys, config, NOW + timedelta(hours=12))  # the silence has expired
    assert "BANDWIDTH_GB WARNING" in receivers.slack_messages()[1]


def test_recommendations_are_told_when_new_and_when_their_priority_changes(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = put_recommendation(env, priority="HIGH")
    notify(capsys, config_file)
    [new] = receivers.slack_messages()
    assert "[HIGH] Upgrade vercel-team from vercel-hobby to vercel-pro" in new
    set_recommendation(env, rec, overage_avoided=31.0)  # numbers move: not news for chat
    notify(capsys, config_file, NOW + timedelta(minutes=15))
    assert len(receivers.slack_messages()) == 1
    set_recommendation(env, rec, priority="CRITICAL")
    notify(capsys, config_file, NOW + timedelta(minutes=30))
    assert "[CRITICAL] Upgrade" in receivers.slack_messages()[1]
    set_recommendation(env, rec, status="DISMISSED")
    notify(capsys, config_file, NOW + timedelta(minutes=45))
    assert "[RESOLVED:1] vercel-team" in receivers.slack_messages()[2]


def test_sources_failing_stale_and_the_dead_man(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_source(
        env,
        "vercel-billing",
        NOW - timedelta(minutes=30),
        error="GET /v1/billing/charges: HTTP 500: boom",
        error_at=NOW - timedelta(minutes=10),
    )
    put_source(env, "neon:proj-1", NOW - timedelta(hours=3))
    notify(capsys, config_file)
    messages = sorted(receivers.slack_messages())
    assert len(messages) == 2
    assert "source neon:proj-1 is stale" in messages[0]
    assert "source vercel-billing is failing" in messages[1] and "HTTP 500: boom" in messages[1]
    # Seven hours later nothing has succeeded: the dead-man alert joins.
    notify(capsys, config_file, NOW + timedelta(hours=7))
    latest = receivers.slack_messages()[2:]
    assert any("[FIRING:1] collection" in m and "no collection has succeeded" in m for m in latest)


def test_the_dry_run_records_and_sends_nothing(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    code, out, _ = notify(capsys, config_file, NOW, "--dry-run")
    assert code == 0
    assert "would notify slack (vercel-team): new: VERCEL_BANDWIDTH/BANDWIDTH_GB WARNING" in out
    assert receivers.received == [] and log_rows(env) == []


def test_slack_errors_are_retried_by_the_next_run_and_bounded(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    receivers.script(SLACK_PATH, Reply(404, "no_service"))
    code, out, _ = notify(capsys, config_file)
    assert code == 1
    assert "failed: slack (vercel-team): HTTP 404: no_service (the webhook was removed" in out
    assert "will retry next run" in out
    assert len(receivers.webhook_posts()) == 1  # the other receiver is not held up
    # 429 asks for two minutes: a run one minute later leaves it alone.
    receivers.script(SLACK_PATH, Reply(429, "rate_limited", {"Retry-After": "120"}))
    assert notify(capsys, config_file, NOW + timedelta(minutes=15))[0] == 1
    before = len(receivers.received)
    assert notify(capsys, config_file, NOW + timedelta(minutes=16))[0] == 0
    assert len(receivers.received) == before
    code, out, _ = notify(capsys, config_file, NOW + timedelta(minutes=18))
    assert code == 0 and "1 messages sent" in out
    [delivered] = receivers.slack_messages()
    assert "sent again" in delivered
    [row] = [r for r in log_rows(env) if r["receiver"] == "slack"]
    assert (row["status"], row["attempts"]) == ("sent", 3)


def test_a_receiver_that_never_answers_is_given_up_after_max_attempts(
    env: str,
    receivers: FakeReceivers,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T1/B1/unreachable1")
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    outs = [notify(capsys, config_file, NOW + timedelta(minutes=15 * i)) for i in range(4)]
    assert [o[0] for o in outs] == [1, 1, 1, 0]
    assert "the receiver is unreachable" in outs[0][1]
    assert "gave up" in outs[2][1]
    [row] = [r for r in log_rows(env) if r["receiver"] == "slack"]
    assert (row["status"], row["attempts"]) == ("abandoned", 3)
    assert "unreachable1" not in str(row) and "unreachable1" not in "".join(
        o[1] + o[2] for o in outs
    )


def test_a_receiver_without_its_secret_is_skipped(
    env: str,
    receivers: FakeReceivers,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL")
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    code, out, _ = notify(capsys, config_file)
    assert code == 0 and "not configured: hook" in out
    assert {r["receiver"] for r in log_rows(env)} == {"slack"}


def test_a_bad_webhook_url_is_a_configuration_error_without_the_secret(
    env: str,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for bad in ("hooks.slack.com/services/T/B/topsecretvalue", "http://[::1/topsecretvalue"):
        monkeypatch.setenv("SLACK_WEBHOOK_URL", bad)
        code, _, err = notify(capsys, config_file)
        assert code == 2
        assert err.strip() == (
            f"error: SLACK_WEBHOOK_URL (receiver slack in {config_file}) must be an http(s) URL"
        )


def test_no_secret_reaches_a_message_the_log_or_the_output(
    env: str,
    receivers: FakeReceivers,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "vercel-token-abcdef123456"
    monkeypatch.setenv("VERCEL_TOKEN", token)
    # A source error that echoes the token and the Slack URL (as a careless API might).
    put_source(
        env,
        "vercel-billing",
        None,
        error=f"HTTP 401 for Bearer {token} posting to {receivers.slack_url}",
        error_at=NOW,
    )
    receivers.script(SLACK_PATH, Reply(400, f"invalid_payload {receivers.slack_url}"))
    code, out, err = notify(capsys, config_file)
    assert code == 1
    notify(capsys, config_file, NOW + timedelta(minutes=15))
    texts = [str(r.payload) for r in receivers.received] + [out, err]
    with psycopg.connect(env) as conn:
        texts += [str(row) for row in conn.execute('SELECT * FROM "NotificationLog"')]
    for text in texts:
        assert token not in text
        assert "slacksecretpart123" not in text
    assert any("***" in t for t in texts)


def test_no_data_is_told_where_a_route_takes_info(
    env: str, receivers: FakeReceivers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(config_routing_to("slack"), encoding="utf-8")
    put_assessment(env, "VERCEL_KV", "OPERATIONS", "NO_DATA", plan="upstash-free")
    notify(capsys, config)
    [message] = receivers.slack_messages()
    assert message.startswith("*[FIRING:1] upstash*")
    assert ":white_circle: *VERCEL_KV/OPERATIONS NO_DATA* (info, NO_DATA)" in message


def test_a_slow_receiver_is_cut_off_by_the_run_budget_and_finished_next_run(
    env: str, receivers: FakeReceivers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(
        config_routing_to("slack", budget_seconds=0.2),
        encoding="utf-8",
    )
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    put_assessment(env, "VERCEL_POSTGRES", "STORAGE_MB", "WARNING", plan="neon-free")
    receivers.delay = 0.5
    code, out, _ = notify(capsys, config)
    assert code == 0 and "1 messages sent" in out and "1 left for the next run" in out
    notify(capsys, config, NOW + timedelta(minutes=15))
    assert len(receivers.slack_messages()) == 2


def test_a_receiver_that_does_not_answer_in_time_is_resent_and_says_so(
    env: str, receivers: FakeReceivers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(
        config_routing_to("hook", timeout_seconds=0.3),
        encoding="utf-8",
    )
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    receivers.script("/hook", Reply(200, None, {}, delay=1.0))
    code, out, _ = notify(capsys, config)
    assert code == 1 and "no answer in time; it may have been delivered" in out
    code, out, _ = notify(capsys, config, NOW + timedelta(minutes=15))
    assert code == 0, out
    first, second = receivers.webhook_posts()
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.payload["resent"] is True and len(receivers.delivered) == 1


def test_a_clock_with_microseconds_still_records_the_delivery(
    env: str, receivers: FakeReceivers, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Times are stored to the millisecond; the claim must still be recognised as ours.
    now = NOW + timedelta(microseconds=123_456)
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    assert notify(capsys, config_file, now)[0] == 0
    assert {r["status"] for r in log_rows(env)} == {"sent"}
    notify(capsys, config_file, now + timedelta(minutes=11))
    assert len(receivers.slack_messages()) == 1


@pytest.mark.parametrize(
    ("status", "text", "hint"),
    [
        (400, "invalid_payload", "Slack could not read the message"),
        (403, "action_prohibited", "an admin restricted posting to the channel"),
        (404, "no_service", "the webhook was removed or disabled"),
        (410, "channel_is_archived", "the webhook's channel is archived"),
        (500, "rollup_error", None),
    ],
)
def test_each_slack_error_is_named_and_retried(
    env: str,
    receivers: FakeReceivers,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    text: str,
    hint: str | None,
) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(config_routing_to("slack"), encoding="utf-8")
    put_assessment(env, "VERCEL_BANDWIDTH", "BANDWIDTH_GB", "WARNING")
    receivers.script(SLACK_PATH, Reply(status, text))
    code, out, _ = notify(capsys, config)
    assert code == 1
    [line] = [x for x in out.splitlines() if x.startswith("failed:")]
    expected = f"failed: slack (vercel-team): HTTP {status}: {text}"
    assert line.startswith(expected + (f" ({hint}" if hint else ";"))
    assert line.endswith("attempt 1, will retry next run")
    assert notify(capsys, config, NOW + timedelta(minutes=15))[0] == 0
    assert len(receivers.slack_messages()) == 1


def test_a_budget_forecast_over_budget_is_told_once(
    env: str,
    receivers: FakeReceivers,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # $2 a day since November 1st: $38 spent by the 20th (19 complete days), about $60 at
    # period end against a $50 budget. The state is the one `recommend` and `status` show.
    first = datetime(2026, 11, 1)
    rows = [
        MetricRow(
            "VERCEL_FUNCTIONS",
            "COST_USD",
            2.0,
            first + timedelta(days=n),
            first + timedelta(days=n + 1),
            "vercel-billing",
            {},
        )
        for n in range(19)
    ]
    with psycopg.connect(env, autocommit=True) as conn:
        metrics_store.write(conn, "vercel-billing", rows, through=None, run_id="t", at=NOW)
    limits = tmp_path / "limits.yaml"
    limits.write_text(
        DEFAULT_LIMITS_FILE.read_text().replace(
            "# budgets:\n#   - {account: vercel-team, monthly_usd: 50}",
            "budgets:\n  - {account: vercel-team, monthly_usd: 50}",
        )
    )
    assert notify(capsys, config_file, NOW, "--limits", str(limits))[0] == 0
    budget = [m for m in receivers.slack_messages() if "budget vercel-team" in m]
    assert len(budget) == 1
    assert "budget vercel-team is forecast over $50.00" in budget[0]
    assert "Spent $38.00 of a $50.00 budget" in budget[0]
    # The next run has nothing new to say about it.
    assert notify(capsys, config_file, NOW + timedelta(hours=1), "--limits", str(limits))[0] == 0
    assert sum("budget vercel-team" in m for m in receivers.slack_messages()) == 1
