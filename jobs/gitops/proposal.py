"""What a proposed upgrade changes and says, pure: the limits.yaml edits (the account's
plan), the branch, the pull request's title and body, and a cost comment in Infracost's
spirit (monthly cost delta, the pause or overage it avoids, the evidence)."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.gitops.planedit import Edit
from jobs.limits.model import LimitsFile
from jobs.notify.recommendations import RecommendationView

BRANCH_PREFIX = "infra-monitoring/upgrade-"
COMMENT_MARKER = "<!-- infra-monitoring:cost-comment -->"


@dataclass(frozen=True)
class Proposal:
    recommendation: RecommendationView
    account: str  # the account (limits.yaml ``accounts``) whose plan changes
    services: tuple[str, ...]  # every service of the account: all of them move
    edits: tuple[Edit, ...]
    current_price: float  # monthly plan prices, USD
    target_price: float

    @property
    def price_delta(self) -> float:
        return self.target_price - self.current_price

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.recommendation.id

    @property
    def title(self) -> str:
        r = self.recommendation
        return f"Upgrade {self.account} from {r.current_plan} to {r.recommended_plan}"


def plan_edits(limits: LimitsFile, account: str, target: str) -> tuple[Edit, ...]:
    """The edits that move ``account`` to ``target``: its ``accounts`` entry, and the ``plan``
    of each of its services where one is written (a file of the old shape, without
    ``accounts``, says the plan only there): a plan belongs to the whole account."""
    explicit = [a for a in limits.accounts if a.name == account and not a.implied]
    services = tuple(
        Edit(("services", s.service, "plan"), target, optional=bool(explicit))
        for s in limits.account_services(account)
    )
    return tuple(Edit(("accounts", account, "plan"), target) for _ in explicit) + services


def propose(limits: LimitsFile, r: RecommendationView) -> Proposal:
    services = tuple(s.service for s in limits.account_services(r.account))
    edits = plan_edits(limits, r.account, r.recommended_plan)
    current = limits.plan(r.current_plan).monthly_price_usd
    target = limits.plan(r.recommended_plan).monthly_price_usd
    return Proposal(r, r.account, services, edits, current, target)


def _usd(value: float, sign: bool = False) -> str:
    text = f"${abs(value):,.2f}"
    if sign:
        return ("+" if value >= 0 else "-") + text
    return text if value >= 0 else "-" + text


def body(p: Proposal) -> str:
    r = p.recommendation
    return "\n".join(
        [
            f"Proposed by `python -m jobs recommendations propose {r.id}`.",
            "",
            f"**{r.title}** ({r.priority}). This changes the plan of {len(p.services)} "
            f"service(s) in `limits.yaml` from `{r.current_plan}` to `{r.recommended_plan}`: "
            + ", ".join(f"`{s}`" for s in p.services)
            + ".",
            "",
            "**Merging is the approval**: the next `recommendations sync-prs` records who "
            "merged it in the recommendation's history, `pulumi up` applies the limits, and "
            "the next `recommend` marks the recommendation IMPLEMENTED once `limits.yaml` "
            "says so. Close without merging to decline it.",
        ]
    )


def cost_comment(p: Proposal) -> str:
    r = p.recommendation
    pause = (
        f"a hard limit is forecast to be reached around **{r.breach_at:%Y-%m-%d %H:%M} UTC**; "
        "on the current plan the feature pauses there"
        if r.breach_at is not None
        else "no hard limit is forecast to be reached this period"
    )
    return "\n".join(
        [
            COMMENT_MARKER,
            f"### Monthly cost estimate: {r.current_plan} → {r.recommended_plan}",
            "",
            "| | current | proposed | diff |",
            "|---|---:|---:|---:|",
            f"| plan price per month | {_usd(p.current_price)} | {_usd(p.target_price)} | "
            f"**{_usd(p.price_delta, sign=True)}** |",
            f"| projected bill this period (price + overage) | {_usd(r.projected_cost)} | "
            f"{_usd(r.upgraded_cost)} | {_usd(r.upgraded_cost - r.projected_cost, sign=True)} |",
            "",
            f"- overage avoided: **{_usd(r.overage_avoided)}**",
            f"- revenue at risk avoided: **{_usd(r.revenue_at_risk)}**",
            f"- pause: {pause}",
            "",
            "<details><summary>Evidence</summary>",
            "",
            r.evidence_markdown,
            "",
            "</details>",
        ]
    )
