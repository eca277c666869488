"""Accounts and budgets in limits.yaml: one plan per vendor account, refused with file:line
when services of one account are put on different plans; the old shape still reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.errors import LimitsError
from jobs.gitops.planedit import apply
from jobs.gitops.proposal import plan_edits
from jobs.limits.loader import parse
from jobs.paths import DEFAULT_LIMITS_FILE
from tests.support.cli import run

PLANS = """\
thresholds: {warning: 0.75, critical: 0.9, resolve: 0.7}
business: {monthly_revenue_usd: 0, degraded_hours: 0}
sources:
  vercel: {url: "https://vercel.com/docs/limits", read: 2026-11-25}
plans:
  vercel-hobby: {vendor: Vercel, monthly_price_usd: 0, hard: true, upgrades_to: [vercel-pro], source: vercel}
  vercel-pro: {vendor: Vercel, monthly_price_usd: 20, usage_credit_usd: 20, source: vercel}
limits:
  - {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-hobby, limit: 1M invocations}
  - {service: VERCEL_FUNCTIONS, metric: INVOCATIONS, plan: vercel-pro, limit: credit, overage: $0.60 per 1M invocations}
  - {service: VERCEL_BANDWIDTH, metric: BANDWIDTH_GB, plan: vercel-hobby, limit: 100 GB}
  - {service: VERCEL_BANDWIDTH, metric: BANDWIDTH_GB, plan: vercel-pro, limit: 1 TB, overage: $0.15 per GB}
"""  # noqa: E501


def problems(text: str) -> list[str]:
    with pytest.raises(LimitsError) as failed:
        parse(text, "limits.yaml")
    return list(failed.value.problems)


def test_the_shipped_file_names_three_accounts_with_their_services() -> None:
    limits = parse(DEFAULT_LIMITS_FILE.read_text(), "limits.yaml")
    assert [(a.name, a.plan, a.vendor) for a in limits.accounts] == [
        ("vercel-team", "vercel-hobby", "Vercel"),
        ("neon", "neon-free", "Neon"),
        ("upstash", "upstash-free", "Upstash"),
    ]
    vercel = [s.service for s in limits.account_services("vercel-team")]
    assert len(vercel) == 10 and all(s.startswith("VERCEL_") for s in vercel)
    assert {s.plan for s in limits.account_services("vercel-team")} == {"vercel-hobby"}


def test_the_old_shape_reads_with_one_implied_account_per_vendor() -> None:
    text = PLANS + (
        "services:\n"
        "  VERCEL_FUNCTIONS: {plan: vercel-hobby}\n"
        "  VERCEL_BANDWIDTH: {plan: vercel-hobby}\n"
    )
    limits = parse(text, "limits.yaml")
    (account,) = limits.accounts
    assert (account.name, account.plan, account.implied) == ("vercel", "vercel-hobby", True)
    assert {s.account for s in limits.services} == {"vercel"}


def test_services_of_one_account_on_different_plans_are_refused_with_file_and_line() -> None:
    text = PLANS + (
        "services:\n"
        "  VERCEL_FUNCTIONS: {plan: vercel-hobby}\n"
        "  VERCEL_BANDWIDTH: {plan: vercel-pro}\n"
    )
    assert problems(text) == [
        "limits.yaml:15: services.VERCEL_BANDWIDTH.plan: VERCEL_BANDWIDTH is on vercel-pro but "
        "VERCEL_FUNCTIONS (line 14) is on vercel-hobby: services of one Vercel account share "
        "one plan (name separate accounts under `accounts:`)"
    ]


def test_a_service_plan_that_differs_from_its_account_is_refused() -> None:
    text = PLANS + (
        "accounts:\n"
        "  team: {plan: vercel-hobby}\n"
        "services:\n"
        "  VERCEL_FUNCTIONS: {account: team}\n"
        "  VERCEL_BANDWIDTH: {account: team, plan: vercel-pro}\n"
    )
    assert problems(text) == [
        "limits.yaml:17: services.VERCEL_BANDWIDTH.plan: vercel-pro differs from the plan of "
        "account team, vercel-hobby (line 14): a plan belongs to the whole account"
    ]


def test_accounts_must_be_defined_and_named() -> None:
    text = PLANS + (
        "accounts:\n"
        "  team: {plan: vercel-hobby}\n"
        "services:\n"
        "  VERCEL_FUNCTIONS: {account: tem}\n"
        "  VERCEL_BANDWIDTH: {plan: vercel-hobby}\n"
    )
    assert problems(text) == [
        "limits.yaml:16: services.VERCEL_FUNCTIONS.account: account 'tem' is not defined under "
        "accounts; did you mean team? defined: team",
        "limits.yaml:17: services.VERCEL_BANDWIDTH: missing key 'account' (the file names "
        "accounts: team)",
    ]


def test_budgets_per_account_and_project() -> None:
    text = PLANS + (
        "accounts:\n"
        "  team: {plan: vercel-hobby}\n"
        "services:\n"
        "  VERCEL_FUNCTIONS: {account: team}\n"
        "budgets:\n"
        "  - {account: team, monthly_usd: 50}\n"
        "  - {account: team, project: storefront, monthly_usd: 30}\n"
    )
    limits = parse(text, "limits.yaml")
    assert [(b.label, b.monthly_usd) for b in limits.budgets] == [
        ("team", 50.0),
        ("team/storefront", 30.0),
    ]
    bad = text + (
        "  - {account: team, monthly_usd: 40}\n"
        "  - {account: team, project: docs, monthly_usd: 0}\n"
        "  - {account: nobody, monthly_usd: 5}\n"
    )
    assert problems(bad) == [
        "limits.yaml:20: budgets[2]: duplicate budget for team (first at line 18)",
        "limits.yaml:21: budgets[3].monthly_usd: must be positive, not 0",
        "limits.yaml:22: budgets[4].account: account 'nobody' is not defined under accounts; "
        "defined: team",
    ]


def test_limits_check_prints_the_mixed_plan_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "limits.yaml"
    text = DEFAULT_LIMITS_FILE.read_text().replace(
        "VERCEL_BUILD: {account: vercel-team, revenue_share: 0}",
        "VERCEL_BUILD: {account: vercel-team, plan: vercel-pro, revenue_share: 0}",
    )
    path.write_text(text)
    code, out, err = run(capsys, "limits", "check", str(path))
    assert code == 1
    assert (
        "services.VERCEL_BUILD.plan: vercel-pro differs from the plan of account vercel-team"
        in (out + err)
    )


@pytest.mark.parametrize(
    ("services", "changed"),
    [
        # The old shape says the plan on each service: each of those lines moves.
        (
            "services:\n  VERCEL_FUNCTIONS: {plan: vercel-hobby}\n"
            "  VERCEL_BANDWIDTH: {plan: vercel-hobby}\n",
            ["  VERCEL_FUNCTIONS: {plan: vercel-pro}", "  VERCEL_BANDWIDTH: {plan: vercel-pro}"],
        ),
        # With accounts, the account's line moves, and a service's own (equal) plan with it.
        (
            "accounts:\n  team: {plan: vercel-hobby}\n"
            "services:\n  VERCEL_FUNCTIONS: {account: team}\n"
            "  VERCEL_BANDWIDTH: {account: team, plan: vercel-hobby}\n",
            ["  team: {plan: vercel-pro}", "  VERCEL_BANDWIDTH: {account: team, plan: vercel-pro}"],
        ),
    ],
)
def test_an_upgrade_proposal_moves_every_plan_line_of_the_account(
    services: str, changed: list[str]
) -> None:
    text = PLANS + services
    limits = parse(text, "limits.yaml")
    (account,) = limits.accounts
    edited = apply(text, plan_edits(limits, account.name, "vercel-pro"), "limits.yaml")
    assert [line for line in edited.splitlines() if line not in text.splitlines()] == changed
    moved = parse(edited, "limits.yaml")  # still valid: one plan for the whole account
    assert {s.plan for s in moved.services} == {"vercel-pro"}
