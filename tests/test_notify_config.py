"""notifications.yaml: the shipped file is valid; every mistake is named with its line."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobs.cli import main
from jobs.errors import NotificationsError
from jobs.limits.model import Budget
from jobs.model import SERVICES
from jobs.notify import alerts
from jobs.notify.config import load, parse
from jobs.notify.model import Kind, ReceiverType, Severity
from jobs.paths import DEFAULT_NOTIFICATIONS_FILE
from jobs.recommend.budget import BudgetOutlook, state_of

GOOD = """\
receivers:
  team: {type: slack, env: SLACK_WEBHOOK_URL}
routes:
  - receiver: team
"""


def problems(text: str) -> list[str]:
    with pytest.raises(NotificationsError) as caught:
        parse(text, "n.yaml")
    return list(caught.value.problems)


def test_the_shipped_file_is_valid() -> None:
    config = load(DEFAULT_NOTIFICATIONS_FILE)
    assert [r.type for r in config.receivers] == [
        ReceiverType.SLACK,
        ReceiverType.WEBHOOK,
        ReceiverType.GITHUB_ISSUES,
    ]
    assert config.settings.repeat_interval == timedelta(hours=24)
    assert config.silences == ()


def test_defaults_and_settings() -> None:
    config = parse(GOOD + "settings: {repeat_interval_hours: 4, max_attempts: 2}\n", "n.yaml")
    assert config.settings.repeat_interval == timedelta(hours=4)
    assert config.settings.max_attempts == 2
    assert config.settings.deadman_after == timedelta(hours=6)
    assert config.routes[0].match == {}


def test_every_problem_is_named_with_its_line() -> None:
    text = """\
settings: {repeat_interval_hours: 0, max_attempts: 2.5, colour: blue}
receivers:
  team: {type: slak, env: slack_url}
  hook: {type: webhook, env: NOTIFY_WEBHOOK_URL, url: "https://example.com/x"}
routes:
  - receiver: nobody
  - receiver: hook
    match: {severity: [critical, urgent], service: VERCEL_BANDWITH, series: NOPE}
    continue: maybe
silences:
  - match: {kind: series}
    expires: next tuesday
  - match: {}
    expires: 2026-12-01
    reason: x
"""
    assert problems(text) == [
        "n.yaml:1: settings.colour: unknown key; allowed: repeat_interval_hours, forecast_days, "
        "deadman_after_hours, stale_after_hours, lease_minutes, max_attempts, send_resolved, "
        "timeout_seconds, budget_seconds",
        "n.yaml:1: settings.repeat_interval_hours: must be positive, not 0",
        "n.yaml:1: settings.max_attempts: must be a whole number, not 2.5",
        "n.yaml:3: receivers.team.type: unknown receiver type 'slak'; did you mean slack? "
        "allowed: slack, webhook, github-issues",
        "n.yaml:3: receivers.team.env: must name an environment variable (like "
        "SLACK_WEBHOOK_URL), not 'slack_url'",
        "n.yaml:4: receivers.hook.url: unknown key; allowed: type, env",
        "n.yaml:6: routes[0].receiver: receiver 'nobody' is not defined under receivers; "
        "defined: hook",
        "n.yaml:8: routes[1].match.severity: unknown severity 'urgent'; allowed: critical, "
        "warning, info",
        "n.yaml:8: routes[1].match.service: unknown service 'VERCEL_BANDWITH'; did you mean "
        "VERCEL_BANDWIDTH? allowed: " + ", ".join(SERVICES),
        "n.yaml:8: routes[1].match.series: series 'NOPE' must be SERVICE/METRIC, e.g. "
        "VERCEL_BANDWIDTH/BANDWIDTH_GB",
        "n.yaml:9: routes[1].continue: must be true or false, not the text 'maybe'",
        "n.yaml:11: silences[0]: missing key 'reason'",
        "n.yaml:12: silences[0].expires: must be a time like 2026-12-01T00:00:00Z",
        "n.yaml:13: silences[1].match: needs at least one label: a silence of everything is "
        "a disabled receiver",
    ]


def test_silence_times_are_utc() -> None:
    config = parse(
        GOOD
        + "silences:\n  - {match: {kind: deadman}, expires: '2026-12-01T02:00:00+02:00', "
        + "reason: maintenance}\n",
        "n.yaml",
    )
    assert config.silences[0].expires == datetime(2026, 12, 1, 0, 0)


def test_the_cli_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "n.yaml"
    bad.write_text("receivers: []\nroutes: []\n", encoding="utf-8")
    assert main(["notify", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{bad}:1: receivers: must be a mapping, not a list" in err
    assert main(["notify", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: (document): no such file" in capsys.readouterr().err


def test_a_budget_forecast_over_budget_is_an_alert() -> None:
    def outlook(account: str, usd: float, spent: float, mean: float, upper: float) -> Any:
        state = state_of(usd, spent, mean, upper)
        return BudgetOutlook(Budget(account, usd, None, 1), spent, mean, spent, upper, None, state)

    budgets = [
        outlook("vercel-team", 100.0, 40.0, 120.0, 150.0),
        outlook("neon-org", 50.0, 60.0, 70.0, 80.0),
        outlook("upstash", 50.0, 10.0, 20.0, 60.0),
        outlook("quiet", 50.0, 10.0, 20.0, 30.0),
    ]
    inputs = alerts.Inputs(
        now=datetime(2026, 11, 20),
        assessments=(),
        sources=(),
        recommendations=(),
        budgets=budgets,
        account_of=str,
        is_hard=lambda *_: False,
    )
    found = list(alerts.budget_alerts(inputs))
    assert [(a.kind, a.account, a.state, a.severity) for a in found] == [
        (Kind.BUDGET, "vercel-team", "forecast-over", Severity.CRITICAL),
        (Kind.BUDGET, "neon-org", "over", Severity.CRITICAL),
        (Kind.BUDGET, "upstash", "may-exceed", Severity.WARNING),
    ]
    assert "forecast at period end $120.00 (80 % band $40.00 to $150.00)" in found[0].body
